# Writes OUTPUT (a C++ source) holding the bytes of INPUT, a model file, as
# fxic::kDefaultModelBytes / kDefaultModelSize, and its model id computed
# here, at build time, as fxic::kDefaultModelId (docs/model-format.md: the
# first 8 bytes of the SHA-256 of bytes [32, size - 4)). The source registers
# the bytes with RegisterPrehashedModel() (codec/model.h), so loading the
# embedded model does not hash 8.8 MB at every run. Run with cmake -P.
#
# The id is computed only if this CMake can hash a byte range of a file
# (file(DOWNLOAD) of a file:// URL with RANGE_START/RANGE_END, CMake >= 3.24)
# and matches the id in the file's header; otherwise kDefaultModelIdKnown is
# false, nothing is registered, and the model is hashed when loaded, as any
# other model file.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")

set(id_known false)
set(id_bytes "0, 0, 0, 0, 0, 0, 0, 0")
if(size GREATER 36 AND NOT CMAKE_VERSION VERSION_LESS 3.24)
  set(range "${OUTPUT}.contents")
  math(EXPR last "${size} - 5")        # RANGE_END is inclusive
  math(EXPR expected "${size} - 36")
  file(DOWNLOAD "file://${INPUT}" "${range}" RANGE_START 32 RANGE_END ${last}
       STATUS status)
  list(GET status 0 code)
  if(code EQUAL 0 AND EXISTS "${range}")
    file(SIZE "${range}" got)
    if(got EQUAL expected)
      file(SHA256 "${range}" digest)
      string(SUBSTRING "${digest}" 0 16 computed)
      string(SUBSTRING "${hex}" 32 16 header)   # bytes 16..23
      if(computed STREQUAL header)
        set(id_known true)
        string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1, " id_bytes "${computed}")
        string(REGEX REPLACE ", $" "" id_bytes "${id_bytes}")
      else()
        message(WARNING "${INPUT}: the model id in its header (${header}) does not "
                        "match its contents (${computed}); fxic will reject it")
      endif()
    endif()
  endif()
  file(REMOVE "${range}")
endif()

string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){32})" "\\1\n" bytes "${bytes}")
set(registration "")
if(id_known)
  string(CONCAT registration
    "namespace {\n"
    "// Runs before main(): LoadModel() of these bytes skips hashing them.\n"
    "struct Registrar {\n"
    "  Registrar() {\n"
    "    ModelId id;\n"
    "    for (size_t i = 0; i < id.size(); ++i) id[i] = kDefaultModelId[i];\n"
    "    RegisterPrehashedModel(kDefaultModelBytes, kDefaultModelSize, id);\n"
    "  }\n"
    "};\n"
    "const Registrar kRegistrar;\n"
    "}  // namespace\n")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by apps/embed_file.cmake. Do not edit.\n"
  "#include \"apps/default_model.h\"\n"
  "#include \"codec/model.h\"\n"
  "namespace fxic {\n"
  "alignas(16) const uint8_t kDefaultModelBytes[] = {\n${bytes}\n};\n"
  "const size_t kDefaultModelSize = ${size};\n"
  "const bool kDefaultModelIdKnown = ${id_known};\n"
  "const uint8_t kDefaultModelId[8] = {${id_bytes}};\n"
  "${registration}"
  "}  // namespace fxic\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
