# Turns a file into a C byte array (run at build time by cgi/CMakeLists.txt):
# -DIN=<file> -DOUT=<c file> -DNAME=<symbol>.  The array holds the file's
# bytes and a NUL; NAME_len is the length without it.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUT}"
  "/* Generated from ${IN} by cgi/embed.cmake. */\n"
  "#include <stddef.h>\n\n"
  "extern const char ${NAME}[];\nextern const size_t ${NAME}_len;\n"
  "const char ${NAME}[] = {\n    ${bytes}0x00};\n"
  "const size_t ${NAME}_len = ${len};\n")
