#include "services/dynamodb/number.h"

#include <algorithm>

namespace stratus::services::dynamodb {

namespace {

// 0.d x 10^e: the largest allowed is 9.99..E+125 (e = 126), the smallest positive 1E-130 (e = -129).
constexpr int kMaxExponent = 126;
constexpr int kMinExponent = -129;
// Exponent texts longer than this are out of range whatever the digits.
constexpr size_t kMaxExponentDigits = 6;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// |a| compared with |b| for digit strings aligned at the same scale (same length).
int CompareAligned(const std::string& a, const std::string& b) {
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// a + b for equal-length digit strings; may grow by one digit.
std::string AddDigits(const std::string& a, const std::string& b) {
  std::string out(a.size() + 1, '0');
  int carry = 0;
  for (size_t i = a.size(); i-- > 0;) {
    int s = (a[i] - '0') + (b[i] - '0') + carry;
    out[i + 1] = static_cast<char>('0' + s % 10);
    carry = s / 10;
  }
  out[0] = static_cast<char>('0' + carry);
  return out;
}

// a - b for equal-length digit strings with a >= b.
std::string SubDigits(const std::string& a, const std::string& b) {
  std::string out(a.size(), '0');
  int borrow = 0;
  for (size_t i = a.size(); i-- > 0;) {
    int s = (a[i] - '0') - (b[i] - '0') - borrow;
    borrow = s < 0 ? 1 : 0;
    if (s < 0) s += 10;
    out[i] = static_cast<char>('0' + s);
  }
  return out;
}

}  // namespace

Error NumberValidation(std::string message) {
  return Error("ValidationException", std::move(message));
}

Status Decimal::CheckLimits(const Decimal& d) {
  if (d.digits_.empty()) return Status::Ok();
  if (d.exponent_ > kMaxExponent) {
    return NumberValidation(
        "Number overflow. Attempting to store a number with magnitude larger than supported range");
  }
  if (d.exponent_ < kMinExponent) {
    return NumberValidation(
        "Number underflow. Attempting to store a number with magnitude smaller than supported "
        "range");
  }
  if (d.digits_.size() > static_cast<size_t>(kMaxNumberDigits)) {
    return NumberValidation("Attempting to store more than 38 significant digits in a Number");
  }
  return Status::Ok();
}

Result<Decimal> Decimal::Parse(std::string_view text) {
  auto bad = [&]() -> Error {
    if (text.empty()) return NumberValidation("The parameter cannot be converted to a numeric value");
    return NumberValidation("The parameter cannot be converted to a numeric value: " +
                            std::string(text));
  };
  size_t i = 0;
  Decimal d;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    d.negative_ = text[i] == '-';
    ++i;
  }
  std::string all;  // every mantissa digit, in order
  int point = -1;   // digits before the decimal point
  bool any = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (IsDigit(c)) {
      all.push_back(c);
      any = true;
    } else if (c == '.' && point < 0) {
      point = static_cast<int>(all.size());
    } else {
      break;
    }
  }
  if (!any) return bad();
  if (point < 0) point = static_cast<int>(all.size());
  int64_t exp10 = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      eneg = text[i] == '-';
      ++i;
    }
    size_t start = i;
    while (i < text.size() && IsDigit(text[i])) ++i;
    if (i == start) return bad();
    std::string_view ed = text.substr(start, i - start);
    while (ed.size() > 1 && ed.front() == '0') ed.remove_prefix(1);
    if (ed.size() > kMaxExponentDigits) {
      exp10 = eneg ? -10'000'000 : 10'000'000;
    } else {
      for (char c : ed) exp10 = exp10 * 10 + (c - '0');
      if (eneg) exp10 = -exp10;
    }
  }
  if (i != text.size()) return bad();
  // Strip leading zeros (adjusting the point) and trailing zeros.
  size_t lead = 0;
  while (lead < all.size() && all[lead] == '0') ++lead;
  if (lead == all.size()) return Decimal();  // zero, whatever the sign or exponent
  size_t end = all.size();
  while (end > lead && all[end - 1] == '0') --end;
  d.digits_ = all.substr(lead, end - lead);
  int64_t e = static_cast<int64_t>(point) - static_cast<int64_t>(lead) + exp10;
  if (e > 1'000'000) e = 1'000'000;
  if (e < -1'000'000) e = -1'000'000;
  d.exponent_ = static_cast<int>(e);
  STRATUS_RETURN_IF_ERROR(CheckLimits(d));
  return d;
}

Decimal Decimal::FromInt(int64_t v) {
  auto r = Parse(std::to_string(v));
  return r.ok() ? *r : Decimal();
}

std::string Decimal::Format() const {
  if (digits_.empty()) return "0";
  std::string out;
  if (negative_) out.push_back('-');
  int n = static_cast<int>(digits_.size());
  if (exponent_ <= 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-exponent_), '0');
    out.append(digits_);
  } else if (exponent_ >= n) {
    out.append(digits_);
    out.append(static_cast<size_t>(exponent_ - n), '0');
  } else {
    out.append(digits_, 0, static_cast<size_t>(exponent_));
    out.push_back('.');
    out.append(digits_, static_cast<size_t>(exponent_), std::string::npos);
  }
  return out;
}

int Decimal::Compare(const Decimal& a, const Decimal& b) {
  int sa = a.digits_.empty() ? 0 : (a.negative_ ? -1 : 1);
  int sb = b.digits_.empty() ? 0 : (b.negative_ ? -1 : 1);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  int mag;
  if (a.exponent_ != b.exponent_) {
    mag = a.exponent_ < b.exponent_ ? -1 : 1;
  } else {
    int c = a.digits_.compare(b.digits_);
    mag = c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return sa > 0 ? mag : -mag;
}

Result<Decimal> Decimal::Add(const Decimal& a, const Decimal& b) {
  if (a.is_zero()) return b;
  if (b.is_zero()) return a;
  // Align both to the same scale: value = D x 10^(exponent - len(D)).
  int low_a = a.exponent_ - static_cast<int>(a.digits_.size());
  int low_b = b.exponent_ - static_cast<int>(b.digits_.size());
  int low = std::min(low_a, low_b);
  int high = std::max(a.exponent_, b.exponent_);
  size_t width = static_cast<size_t>(high - low);
  auto align = [&](const Decimal& d) {
    std::string s(static_cast<size_t>(high - d.exponent_), '0');
    s.append(d.digits_);
    s.append(width - s.size(), '0');
    return s;
  };
  std::string da = align(a), db = align(b);
  Decimal r;
  std::string sum;
  int top = high;  // exponent of the first digit position of `sum`
  if (a.negative_ == b.negative_) {
    sum = AddDigits(da, db);
    top = high + 1;
    r.negative_ = a.negative_;
  } else {
    int c = CompareAligned(da, db);
    if (c == 0) return Decimal();
    if (c > 0) {
      sum = SubDigits(da, db);
      r.negative_ = a.negative_;
    } else {
      sum = SubDigits(db, da);
      r.negative_ = b.negative_;
    }
  }
  size_t lead = 0;
  while (lead < sum.size() && sum[lead] == '0') ++lead;
  size_t end = sum.size();
  while (end > lead && sum[end - 1] == '0') --end;
  r.digits_ = sum.substr(lead, end - lead);
  r.exponent_ = top - static_cast<int>(lead);
  STRATUS_RETURN_IF_ERROR(CheckLimits(r));
  return r;
}

Result<Decimal> Decimal::Subtract(const Decimal& a, const Decimal& b) {
  Decimal nb = b;
  if (!nb.is_zero()) nb.negative_ = !nb.negative_;
  return Add(a, nb);
}

std::string Decimal::EncodeOrdered() const {
  // Class byte: 0x01 negative, 0x02 zero, 0x03 positive. Then the biased exponent (one byte,
  // the range fits) and one byte per digit ('0'..'9' -> 0x01..0x0A), closed by 0x00. Negative
  // numbers complement every byte after the class byte, so larger magnitudes sort first.
  std::string out;
  if (digits_.empty()) {
    out.push_back('\x02');
    return out;
  }
  out.reserve(digits_.size() + 3);
  out.push_back(negative_ ? '\x01' : '\x03');
  auto put = [&](unsigned char b) {
    out.push_back(static_cast<char>(negative_ ? static_cast<unsigned char>(~b) : b));
  };
  put(static_cast<unsigned char>(exponent_ - kMinExponent));
  for (char c : digits_) put(static_cast<unsigned char>(c - '0' + 1));
  put(0);
  return out;
}

bool Decimal::ToInt64(int64_t& out) const {
  if (digits_.empty()) {
    out = 0;
    return true;
  }
  if (exponent_ < static_cast<int>(digits_.size()) || exponent_ > 18) return false;
  int64_t v = 0;
  for (int i = 0; i < exponent_; ++i) {
    int dig = i < static_cast<int>(digits_.size()) ? digits_[static_cast<size_t>(i)] - '0' : 0;
    v = v * 10 + dig;
  }
  out = negative_ ? -v : v;
  return true;
}

}  // namespace stratus::services::dynamodb
