# Writes OUTPUT: a C++ file defining the runtime bootstraps as string constants, from PYTHON and
# NODE (the bootstrap sources). Run with cmake -P at build time.
file(READ ${PYTHON} PYTHON_SOURCE)
file(READ ${NODE} NODE_SOURCE)
file(WRITE ${OUTPUT} "// Generated from src/services/lambda/bootstraps/ by embed.cmake; do not edit.\n"
  "#include <string_view>\n"
  "namespace stratus::services::lambda {\n"
  "extern const std::string_view kPythonBootstrap;\n"
  "extern const std::string_view kNodeBootstrap;\n"
  "const std::string_view kPythonBootstrap = R\"STRATUS_EMBED(${PYTHON_SOURCE})STRATUS_EMBED\";\n"
  "const std::string_view kNodeBootstrap = R\"STRATUS_EMBED(${NODE_SOURCE})STRATUS_EMBED\";\n"
  "}  // namespace stratus::services::lambda\n")
