# Turns lib/common-passwords.txt into a C array (run at build time by
# lib/CMakeLists.txt): -DIN=<txt> -DOUT=<c file>.
file(STRINGS "${IN}" lines ENCODING UTF-8)
set(body "")
set(count 0)
foreach(line IN LISTS lines)
  if(line STREQUAL "" OR line MATCHES "^#")
    continue()
  endif()
  string(REPLACE "\\" "\\\\" line "${line}")
  string(REPLACE "\"" "\\\"" line "${line}")
  string(APPEND body "    \"${line}\",\n")
  math(EXPR count "${count} + 1")
endforeach()
file(WRITE "${OUT}"
  "/* Generated from lib/common-passwords.txt by lib/common_passwords.cmake. */\n"
  "#include <stddef.h>\n\n"
  "const char *const account_common_passwords[] = {\n${body}};\n"
  "const size_t account_common_passwords_count = ${count};\n")
