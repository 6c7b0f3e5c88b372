/*
 * pq_lazy.h - libpq, loaded when a command first needs a database.
 *
 * Linking libpq pulls in OpenSSL, GSSAPI, LDAP and GnuTLS, whose start-up
 * costs every process about 15 ms on a small machine: more than `commit`
 * or `log` spend on their own work. src/pg.c includes this header after
 * libpq-fe.h; every PQ* call then goes through a table filled by dlopen()
 * of libpq.so.5 on first use. Only src/pg.c includes it.
 */
#ifndef SCH_PQ_LAZY_H
#define SCH_PQ_LAZY_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#define SCH_PQ_FUNCS(X) \
	X(PQbackendPID) \
	X(PQcancel) \
	X(PQclear) \
	X(PQcmdStatus) \
	X(PQcmdTuples) \
	X(PQconndefaults) \
	X(PQconnectPoll) \
	X(PQconnectStartParams) \
	X(PQconnectionNeedsPassword) \
	X(PQconninfo) \
	X(PQconninfoFree) \
	X(PQconninfoParse) \
	X(PQdb) \
	X(PQenterPipelineMode) \
	X(PQerrorMessage) \
	X(PQexec) \
	X(PQexecParams) \
	X(PQexitPipelineMode) \
	X(PQfinish) \
	X(PQfnumber) \
	X(PQfreeCancel) \
	X(PQfreemem) \
	X(PQgetCancel) \
	X(PQgetCopyData) \
	X(PQgetResult) \
	X(PQgetisnull) \
	X(PQgetlength) \
	X(PQgetvalue) \
	X(PQnfields) \
	X(PQntuples) \
	X(PQpass) \
	X(PQpipelineSync) \
	X(PQputCopyData) \
	X(PQputCopyEnd) \
	X(PQresStatus) \
	X(PQresultErrorField) \
	X(PQresultErrorMessage) \
	X(PQresultStatus) \
	X(PQsendQueryParams) \
	X(PQserverVersion) \
	X(PQsetNoticeReceiver) \
	X(PQsocket) \
	X(PQstatus) \
	X(PQtransactionStatus) \
	X(PQuser)

struct sch_pq_api {
#define SCH_PQ_FIELD(f) __typeof__(&f) f;
#define X SCH_PQ_FIELD
	SCH_PQ_FUNCS(X)
#undef X
#undef SCH_PQ_FIELD
};

static struct sch_pq_api sch_pq;
static int sch_pq_loaded;

/* Loads libpq once; a system without it cannot reach a database at all,
 * so this ends the process with the database exit status. */
static const struct sch_pq_api *sch_pq_get(void)
{
	void *h;

	if (sch_pq_loaded)
		return &sch_pq;
	h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "schema: error: cannot load libpq.so.5: %s\n",
			dlerror());
		exit(3);
	}
#define SCH_PQ_LOAD(f)                                                     \
	*(void **)(&sch_pq.f) = dlsym(h, #f);                              \
	if (!sch_pq.f) {                                                   \
		fprintf(stderr, "schema: error: libpq.so.5 lacks %s\n", #f); \
		exit(3);                                                   \
	}
#define X SCH_PQ_LOAD
	SCH_PQ_FUNCS(X)
#undef X
#undef SCH_PQ_LOAD
	sch_pq_loaded = 1;
	return &sch_pq;
}

#define PQbackendPID (sch_pq_get()->PQbackendPID)
#define PQcancel (sch_pq_get()->PQcancel)
#define PQclear (sch_pq_get()->PQclear)
#define PQcmdStatus (sch_pq_get()->PQcmdStatus)
#define PQcmdTuples (sch_pq_get()->PQcmdTuples)
#define PQconndefaults (sch_pq_get()->PQconndefaults)
#define PQconnectPoll (sch_pq_get()->PQconnectPoll)
#define PQconnectStartParams (sch_pq_get()->PQconnectStartParams)
#define PQconnectionNeedsPassword (sch_pq_get()->PQconnectionNeedsPassword)
#define PQconninfo (sch_pq_get()->PQconninfo)
#define PQconninfoFree (sch_pq_get()->PQconninfoFree)
#define PQconninfoParse (sch_pq_get()->PQconninfoParse)
#define PQdb (sch_pq_get()->PQdb)
#define PQenterPipelineMode (sch_pq_get()->PQenterPipelineMode)
#define PQerrorMessage (sch_pq_get()->PQerrorMessage)
#define PQexec (sch_pq_get()->PQexec)
#define PQexecParams (sch_pq_get()->PQexecParams)
#define PQexitPipelineMode (sch_pq_get()->PQexitPipelineMode)
#define PQfinish (sch_pq_get()->PQfinish)
#define PQfnumber (sch_pq_get()->PQfnumber)
#define PQfreeCancel (sch_pq_get()->PQfreeCancel)
#define PQfreemem (sch_pq_get()->PQfreemem)
#define PQgetCancel (sch_pq_get()->PQgetCancel)
#define PQgetCopyData (sch_pq_get()->PQgetCopyData)
#define PQgetResult (sch_pq_get()->PQgetResult)
#define PQgetisnull (sch_pq_get()->PQgetisnull)
#define PQgetlength (sch_pq_get()->PQgetlength)
#define PQgetvalue (sch_pq_get()->PQgetvalue)
#define PQnfields (sch_pq_get()->PQnfields)
#define PQntuples (sch_pq_get()->PQntuples)
#define PQpass (sch_pq_get()->PQpass)
#define PQpipelineSync (sch_pq_get()->PQpipelineSync)
#define PQputCopyData (sch_pq_get()->PQputCopyData)
#define PQputCopyEnd (sch_pq_get()->PQputCopyEnd)
#define PQresStatus (sch_pq_get()->PQresStatus)
#define PQresultErrorField (sch_pq_get()->PQresultErrorField)
#define PQresultErrorMessage (sch_pq_get()->PQresultErrorMessage)
#define PQresultStatus (sch_pq_get()->PQresultStatus)
#define PQsendQueryParams (sch_pq_get()->PQsendQueryParams)
#define PQserverVersion (sch_pq_get()->PQserverVersion)
#define PQsetNoticeReceiver (sch_pq_get()->PQsetNoticeReceiver)
#define PQsocket (sch_pq_get()->PQsocket)
#define PQstatus (sch_pq_get()->PQstatus)
#define PQtransactionStatus (sch_pq_get()->PQtransactionStatus)
#define PQuser (sch_pq_get()->PQuser)

#endif
