/* banned.h - functions we do not use; included by every .c file. */
#ifndef SCH_BANNED_H
#define SCH_BANNED_H

#define SCH_BANNED(f) sorry_##f##_is_banned

#undef strcpy
#define strcpy(a, b) SCH_BANNED(strcpy)
#undef strcat
#define strcat(a, b) SCH_BANNED(strcat)
#undef sprintf
#define sprintf(...) SCH_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) SCH_BANNED(vsprintf)
#undef strtok
#define strtok(a, b) SCH_BANNED(strtok)
#undef gets
#define gets(a) SCH_BANNED(gets)

#endif
