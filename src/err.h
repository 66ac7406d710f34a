/*
 * err.h -- filling in tlsv_error records (the error model of SPEC §4).
 */
#ifndef TLSV_ERR_H
#define TLSV_ERR_H

#include "tlsv.h"

/* Records a failure: reason, alert (TLSV_ALERT_NONE if none), which side
 * decided, and a printf-style explanation. err may be NULL. */
void tlsv_err_set(tlsv_error *err, tlsv_reason reason, int alert, tlsv_side side,
                  const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Resets a record to "no error". err may be NULL. */
void tlsv_err_clear(tlsv_error *err);

/* Copies src to dst when dst is not NULL. */
void tlsv_err_copy(tlsv_error *dst, const tlsv_error *src);

#endif /* TLSV_ERR_H */
