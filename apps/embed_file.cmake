# Writes OUTPUT (a C++ source) holding the bytes of INPUT as
# fxic::kDefaultModelBytes / kDefaultModelSize. Run with cmake -P.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){32})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by apps/embed_file.cmake. Do not edit.\n"
  "#include \"apps/default_model.h\"\n"
  "namespace fxic {\n"
  "alignas(16) const uint8_t kDefaultModelBytes[] = {\n${bytes}\n};\n"
  "const size_t kDefaultModelSize = ${size};\n"
  "}  // namespace fxic\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
