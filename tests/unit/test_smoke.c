#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "tlsv.h"
static void t(void **s){(void)s; assert_string_equal(tlsv_library_version(), TLSV_VERSION_TEXT);}
int main(void){const struct CMUnitTest tests[]={cmocka_unit_test(t)};return cmocka_run_group_tests(tests,NULL,NULL);}
