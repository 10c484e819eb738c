#pragma once
// Number and integer picture formatting shared by $formatNumber/$formatInteger/$parseInteger
// and the date/time functions (which format their components with integer pictures).
#include <string>
#include <utility>
#include <vector>

#include "jsonata/evaluator.h"

namespace stratus::jsonata::internal {

std::u32string ToU32(const std::string& s);
std::string FromU32(const std::u32string& s);

// XPath format-integer; throws JError (D3130 unsupported sequence, D3131 mixed digit groups).
std::string FormatInteger(double value, const std::string& picture);
// Inverse of FormatInteger; NaN when the text does not parse.
double ParseInteger(const std::string& text, const std::string& picture);

// An analysed integer picture ("#,##0", "A", "i", "W", "w;o" ...).
struct IntegerPicture {
  enum Primary { kDecimal, kLetters, kRoman, kWords, kSequence } primary = kDecimal;
  enum Case { kLower, kUpper, kTitle } text_case = kLower;
  bool ordinal = false;
  char32_t zero = 0x30;
  int mandatory = 0;
  int optional = 0;
  bool regular = false;
  int regular_position = 0;
  char32_t regular_char = 0;
  std::vector<std::pair<int, char32_t>> separators;  // (position from the right, char)
  std::string token;
};

IntegerPicture AnalyseIntegerPicture(const std::string& picture);
std::string FormatIntegerWith(double value, const IntegerPicture& f);
// English words to number ("one hundred and twenty-three"); NaN if not words.
double WordsToNumber(const std::string& lower_text);
std::string NumberWords(double value, bool ordinal);
std::string NumberWordsRegex();  // a regex matching number words (case-insensitive use)  // "One Hundred and Twenty-Three"

// $formatNumber (format_number.cc).
Value FnFormatNumber(Evaluator& ev, Args& a, const CallSite& site);

}  // namespace stratus::jsonata::internal
