# Checks the compile-time deprecation warnings of tlsv.h (SPEC §1).
# Inputs: CC, INCLUDE, SRC (tests/build), WORK (scratch folder).
file(MAKE_DIRECTORY ${WORK})
set(failures 0)

function(compile file flags)
  separate_arguments(flag_list UNIX_COMMAND "${flags}")
  execute_process(COMMAND ${CC} -std=c17 -Wall -Wextra ${flag_list} -I${INCLUDE}
                          -c ${SRC}/${file} -o ${WORK}/${file}.o
                  RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  set(rc ${rc} PARENT_SCOPE)
  set(text "${o}${e}" PARENT_SCOPE)
endfunction()

# Records one check: `ok` must be true.
macro(check ok what)
  if(${ok})
    message(STATUS "ok: ${what}")
  else()
    message(SEND_ERROR "FAILED: ${what}\n--- compiler output ---\n${text}")
    math(EXPR failures "${failures}+1")
  endif()
endmacro()

# 1. A deprecated protocol constant fails under -Werror=deprecated-declarations ...
compile(uses_sslv23.c "-Werror=deprecated-declarations")
set(ok FALSE)
if(NOT rc EQUAL 0)
  set(ok TRUE)
endif()
check(ok "TLSV_PROTOCOL_SSLv23 fails with -Werror=deprecated-declarations")
string(FIND "${text}" "TLSV_PROTOCOL_SSLv23" pos)
set(ok FALSE)
if(pos GREATER -1)
  set(ok TRUE)
endif()
check(ok "the error names TLSV_PROTOCOL_SSLv23")

# ... and warns without it, naming the replacement.
compile(uses_sslv23.c "")
set(ok FALSE)
string(FIND "${text}" "is deprecated" pos1)
string(FIND "${text}" "use TLSV_PROTOCOL_TLS_CLIENT or TLSV_PROTOCOL_TLS_SERVER" pos2)
if(rc EQUAL 0 AND pos1 GREATER -1 AND pos2 GREATER -1)
  set(ok TRUE)
endif()
check(ok "without -Werror it compiles, warning 'deprecated' and naming the replacement")

# 2. Non-deprecated names compile cleanly with every warning an error.
compile(uses_tls_client.c "-Werror")
set(ok FALSE)
if(rc EQUAL 0 AND text STREQUAL "")
  set(ok TRUE)
endif()
check(ok "TLS_CLIENT / TLSv1_2 / OP_ALL compile cleanly under -Werror")

# 3. Deprecated versions and OP_NO_* flags warn, once each.
compile(uses_deprecated_versions.c "")
string(REGEX MATCHALL "-Wdeprecated-declarations" hits "${text}")
list(LENGTH hits n)
set(ok FALSE)
if(rc EQUAL 0 AND n EQUAL 2)
  set(ok TRUE)
endif()
check(ok "TLSV_VERSION_TLSv1 and TLSV_OP_NO_TLSv1_1 each warn (${n} warnings)")

# 4. TLSV_SILENCE_DEPRECATION silences them.
compile(silenced.c "-Werror")
set(ok FALSE)
if(rc EQUAL 0)
  set(ok TRUE)
endif()
check(ok "TLSV_SILENCE_DEPRECATION silences the warnings")

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} deprecation check(s) failed")
endif()
