// Intentionally empty: the object library that builds the shared precompiled headers
// (cmake/pch.cmake) needs one source file.
