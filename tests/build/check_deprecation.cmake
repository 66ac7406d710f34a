# Checks the compile-time deprecation warnings of tlsv.h (SPEC §1).
# Inputs: CC, INCLUDE, SRC (tests/build), WORK (scratch folder).
file(MAKE_DIRECTORY ${WORK})

function(compile file flags out_rc out_text)
  separate_arguments(flag_list UNIX_COMMAND "${flags}")
  execute_process(COMMAND ${CC} -std=c17 -Wall -Wextra ${flag_list} -I${INCLUDE}
                          -c ${SRC}/${file} -o ${WORK}/${file}.o
                  RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  set(${out_rc} ${rc} PARENT_SCOPE)
  set(${out_text} "${o}${e}" PARENT_SCOPE)
endfunction()

set(failures 0)
macro(expect cond what)
  if(${cond})
    message(STATUS "ok: ${what}")
  else()
    message(SEND_ERROR "FAILED: ${what}\n${text}")
    math(EXPR failures "${failures}+1")
  endif()
endmacro()

# 1. A deprecated protocol constant fails under -Werror=deprecated-declarations ...
compile(uses_sslv23.c "-Werror=deprecated-declarations" rc text)
expect("NOT rc EQUAL 0" "TLSV_PROTOCOL_SSLv23 fails with -Werror=deprecated-declarations")
string(FIND "${text}" "TLSV_PROTOCOL_SSLv23" pos)
expect("pos GREATER -1" "the error names TLSV_PROTOCOL_SSLv23")

# ... and warns without it, naming the replacement.
compile(uses_sslv23.c "" rc text)
expect("rc EQUAL 0" "TLSV_PROTOCOL_SSLv23 compiles without -Werror")
string(FIND "${text}" "deprecated" pos)
expect("pos GREATER -1" "the warning says 'deprecated'")
string(FIND "${text}" "use TLSV_PROTOCOL_TLS_CLIENT or TLSV_PROTOCOL_TLS_SERVER" pos)
expect("pos GREATER -1" "the warning names the replacement")

# 2. Non-deprecated names compile cleanly with every warning an error.
compile(uses_tls_client.c "-Werror" rc text)
expect("rc EQUAL 0" "TLS_CLIENT / TLSv1_2 / OP_ALL compile cleanly under -Werror")

# 3. Deprecated versions and OP_NO_* flags warn, once each.
compile(uses_deprecated_versions.c "" rc text)
string(REGEX MATCHALL "-Wdeprecated-declarations" hits "${text}")
list(LENGTH hits n)
expect("n EQUAL 2" "TLSV_VERSION_TLSv1 and TLSV_OP_NO_TLSv1_1 each warn (got ${n})")

# 4. TLSV_SILENCE_DEPRECATION silences them.
compile(silenced.c "-Werror" rc text)
expect("rc EQUAL 0" "TLSV_SILENCE_DEPRECATION silences the warnings")

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} deprecation check(s) failed")
endif()
