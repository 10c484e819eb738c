// The one instantiation of fmt 9's formatting engine that fmt_extern.h declares extern.
#include "core/fmt_extern.h"

#if FMT_VERSION >= 90000 && FMT_VERSION < 100000
FMT_BEGIN_NAMESPACE
namespace detail {
template FMT_API void vformat_to<char>(buffer<char>&, basic_string_view<char>,
                                       basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);
}  // namespace detail
FMT_END_NAMESPACE
#endif
