#include "core/clock.h"

namespace stratus {

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace stratus
