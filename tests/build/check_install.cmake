# cmake --install into a scratch prefix, then build a consumer with
# pkg-config and with find_package(tlsv), and run them.
# Inputs: BUILD_DIR, SRC (tests/build), WORK, CC.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(prefix ${WORK}/prefix)

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAILED: ${what} (${rc})\n${o}\n${e}")
  endif()
  message(STATUS "ok: ${what}")
endfunction()

run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(f include/tlsv.h bin/tlsv share/man/man1/tlsv.1)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
file(GLOB libdirs LIST_DIRECTORIES true ${prefix}/lib*)
list(GET libdirs 0 libdir)
foreach(f libtlsv.a libtlsv.so pkgconfig/tlsv.pc cmake/tlsv/tlsvConfig.cmake)
  if(NOT EXISTS ${libdir}/${f})
    message(FATAL_ERROR "not installed: ${libdir}/${f}")
  endif()
endforeach()

# pkg-config
set(ENV{PKG_CONFIG_PATH} ${libdir}/pkgconfig)
execute_process(COMMAND pkg-config --cflags --libs tlsv OUTPUT_VARIABLE flags
                RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags --libs tlsv failed")
endif()
separate_arguments(flag_list UNIX_COMMAND "${flags}")
run("build a consumer with pkg-config" ${CC} -std=c17 -Wall -Werror ${SRC}/consumer.c
    ${flag_list} -Wl,-rpath,${libdir} -o ${WORK}/consumer_pc)
run("run the pkg-config consumer" ${WORK}/consumer_pc)

# find_package(tlsv)
run("configure a find_package consumer" ${CMAKE_COMMAND} -S ${SRC}/consumer
    -B ${WORK}/consumer-build -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_C_COMPILER=${CC})
run("build the find_package consumer" ${CMAKE_COMMAND} --build ${WORK}/consumer-build)
run("run the shared consumer" ${WORK}/consumer-build/consumer_shared)
run("run the static consumer" ${WORK}/consumer-build/consumer_static)
