# Writes the table of cgi/asset.h (run at build time by cgi/CMakeLists.txt):
# -DDIR=<conf/static> -DOUT=<c file>.  Each file's URL carries the first 16
# hex digits of its SHA-256, so a change of content is a change of name.
set(files clientes.css clientes.js favicon.ico)
set(rows "")
foreach(f IN LISTS files)
  file(SHA256 "${DIR}/${f}" sum)
  string(SUBSTRING "${sum}" 0 16 short)
  string(REGEX REPLACE "^(.*)\\.([a-z]+)$" "\\1.${short}.\\2" hashed "${f}")
  string(APPEND rows "    {\"${f}\", \"/static/${hashed}\"},\n")
endforeach()
set(text "/* Generated from conf/static by cgi/assets.cmake. */\n#include \"asset.h\"\n\nconst struct asset_desc asset_table[ASSET_COUNT] = {\n${rows}};\n")
file(WRITE "${OUT}" "${text}")
