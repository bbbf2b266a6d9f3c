# SPDX-License-Identifier: GPL-2.0-or-later
# wolfssl.cmake - the wolfSSL evtls links, as the target evtls_wolfssl.
#
# EVTLS_WOLFSSL=system: the system's (pkg-config wolfssl), shared.
# EVTLS_WOLFSSL=tuned: built for evtls from Debian's source package by
# scripts/wolfssl-tuned.sh at configure time (once: a stamp keeps it), into
# EVTLS_WOLFSSL_PREFIX, static and PIC; libevtls links it privately with
# its symbols hidden.
set(EVTLS_WOLFSSL system CACHE STRING
  "wolfSSL to link: system (pkg-config wolfssl) or tuned (built for evtls, private)")
set_property(CACHE EVTLS_WOLFSSL PROPERTY STRINGS system tuned)
set(EVTLS_WOLFSSL_SOURCE "" CACHE PATH
  "tuned: an unpacked wolfSSL source tree to build (offline) instead of Debian's package")
set(EVTLS_WOLFSSL_PREFIX "${CMAKE_SOURCE_DIR}/build-wolfssl/prefix" CACHE PATH
  "tuned: where the tuned wolfSSL is installed (shared by the build trees of a checkout)")

if(EVTLS_WOLFSSL STREQUAL "tuned")
  get_filename_component(_wt_work "${EVTLS_WOLFSSL_PREFIX}/../work" ABSOLUTE)
  message(STATUS "evtls: the tuned wolfSSL in ${EVTLS_WOLFSSL_PREFIX}")
  execute_process(
    COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/wolfssl-tuned.sh ${EVTLS_WOLFSSL_PREFIX} ${_wt_work}
            ${EVTLS_WOLFSSL_SOURCE}
    RESULT_VARIABLE _wt_rc)
  if(NOT _wt_rc EQUAL 0)
    message(FATAL_ERROR "evtls: building the tuned wolfSSL failed (see ${_wt_work}/*.log)")
  endif()
  add_library(evtls_wolfssl STATIC IMPORTED GLOBAL)
  set_target_properties(evtls_wolfssl PROPERTIES
    IMPORTED_LOCATION "${EVTLS_WOLFSSL_PREFIX}/lib/libwolfssl.a"
    INTERFACE_INCLUDE_DIRECTORIES "${EVTLS_WOLFSSL_PREFIX}/include"
    INTERFACE_LINK_LIBRARIES "m;pthread")
  set(EVTLS_WOLFSSL_TUNED 1)
  # The largest certificate message it takes, as the script built it (its
  # stamp holds the flags): one number, written in the script alone.
  file(STRINGS "${EVTLS_WOLFSSL_PREFIX}/.evtls-tuned" _wt_max REGEX "-DMAX_CERTIFICATE_SZ=[0-9]+")
  string(REGEX MATCH "MAX_CERTIFICATE_SZ=([0-9]+)" _wt_max "${_wt_max}")
  if(NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "evtls: ${EVTLS_WOLFSSL_PREFIX}/.evtls-tuned names no MAX_CERTIFICATE_SZ")
  endif()
  set(EVTLS_WOLFSSL_MAX_CERTIFICATE_SZ ${CMAKE_MATCH_1})
elseif(EVTLS_WOLFSSL STREQUAL "system")
  pkg_check_modules(WOLFSSL REQUIRED IMPORTED_TARGET GLOBAL wolfssl>=5.5)
  add_library(evtls_wolfssl INTERFACE IMPORTED GLOBAL)
  set_target_properties(evtls_wolfssl PROPERTIES INTERFACE_LINK_LIBRARIES PkgConfig::WOLFSSL)
  set(EVTLS_WOLFSSL_TUNED 0)
else()
  message(FATAL_ERROR "EVTLS_WOLFSSL must be system or tuned, not '${EVTLS_WOLFSSL}'")
endif()
