/* nested /* deep */ still */;;; -- c
