// BasicTokenizer / WordpieceTokenizer / BertTokenizer against Google BERT's tokenization.py.
// Expected tokens below were produced by the Python reference (tests/nlp/py/bert_reference.py,
// a restatement of tokenization.py) with CPython 3.11, not by this code.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/file.h"
#include "nlp/bert_tokenizer.h"
#include "nlp/unicode_props.h"
#include "nlp/utf8.h"
#include "test_assets.h"

namespace ratel::nlp {
namespace {

using Tokens = std::vector<std::string>;

Tokens basic(std::string_view text, bool lower = true) {
  auto tokens = BasicTokenizer(lower).tokenize(text);
  EXPECT_TRUE(tokens.ok()) << tokens.status().message();
  return tokens.ok() ? *tokens : Tokens{};
}

TEST(BasicTokenizer, SplitsPunctuationAndLowerCases) {
  EXPECT_EQ(basic("Hello, World!"), (Tokens{"hello", ",", "world", "!"}));
  EXPECT_EQ(basic("Hello, World!", false), (Tokens{"Hello", ",", "World", "!"}));
  EXPECT_EQ(basic("  \tHeLLo!how  are you?  "), (Tokens{"hello", "!", "how", "are", "you", "?"}));
}

TEST(BasicTokenizer, DropsControlCharactersAndReplacementCharacter) {
  // NUL, U+FFFD, BEL are removed, so the pieces around them join.
  EXPECT_EQ(basic(std::string("a\0b\xEF\xBF\xBD"
                              "c\x07"
                              "d",
                              9)),
            (Tokens{"abcd"}));
  // Format characters (Cf: zero-width space, soft hyphen) are controls too.
  EXPECT_EQ(basic("foo\u200B"
                  "bar\u00AD"
                  "baz"),
            (Tokens{"foobarbaz"}));
}

TEST(BasicTokenizer, UnicodeWhitespaceSplits) {
  // Tab, newline, NBSP (Zs), ideographic space (Zs), and U+2028/U+2029 (str.split() splits
  // there); U+0085 is a control (Cc) and is dropped, joining "g" and "h".
  EXPECT_EQ(basic("a\tb\nc\u00A0"
                  "d\u3000"
                  "e\u2028"
                  "f\u2029g\u0085h"),
            (Tokens{"a", "b", "c", "d", "e", "f", "gh"}));
}

TEST(BasicTokenizer, CjkIdeographsBecomeTokensButHangulDoesNot) {
  EXPECT_EQ(basic("\u4E2D\u6587"
                  "abc\u65E5\u672C"),
            (Tokens{"\u4E2D", "\u6587", "abc", "\u65E5", "\u672C"}));
  // Hangul is not in _is_chinese_char's ranges; lower-casing mode decomposes it (NFD) to jamo.
  EXPECT_EQ(basic("\uD55C\uAD6D\uC5B4"),
            (Tokens{"\u1112\u1161\u11AB\u1100\u116E\u11A8\u110B\u1165"}));
  EXPECT_EQ(basic("\uD55C\uAD6D\uC5B4", false), (Tokens{"\uD55C\uAD6D\uC5B4"}));
  // A CJK compatibility ideograph is isolated first, then NFD maps it to the unified one.
  EXPECT_EQ(basic("\uF900x"), (Tokens{"\u8C48", "x"}));
}

TEST(BasicTokenizer, StripsAccentsOnlyWhenLowerCasing) {
  EXPECT_EQ(basic("Caf\u00E9 Na\u00EFve \u00C9COLE"), (Tokens{"cafe", "naive", "ecole"}));
  EXPECT_EQ(basic("Caf\u00E9 Na\u00EFve \u00C9COLE", false),
            (Tokens{"Caf\u00E9", "Na\u00EFve", "\u00C9COLE"}));
  // U+0130 lower-cases to "i" + combining dot (Python's full mapping); the dot is then stripped.
  EXPECT_EQ(basic("\u0130stanbul"), (Tokens{"istanbul"}));
}

TEST(BasicTokenizer, PunctuationIsAsciiSymbolsPlusUnicodeP) {
  EXPECT_EQ(basic("$5^2`x~y"), (Tokens{"$", "5", "^", "2", "`", "x", "~", "y"}));
  EXPECT_EQ(basic("\u00ABhi\u00BB\u2014\u201Cyo\u201D"),
            (Tokens{"\u00AB", "hi", "\u00BB", "\u2014", "\u201C", "yo", "\u201D"}));
  // Non-ASCII symbols (Sc, So) are not punctuation; ASCII '+' is.
  EXPECT_EQ(basic("\u20AC"
                  "5 a\u00A9"
                  "b a+b"),
            (Tokens{"\u20AC"
                    "5",
                    "a\u00A9"
                    "b",
                    "a", "+", "b"}));
  // GREEK VARIA (Sk) decomposes to '`' under NFD, so it splits only in lower-casing mode.
  EXPECT_EQ(basic("a\u1FEF"
                  "b"),
            (Tokens{"a", "`", "b"}));
  EXPECT_EQ(basic("a\u1FEF"
                  "b",
                  false),
            (Tokens{"a\u1FEF"
                    "b"}));
}

TEST(BasicTokenizer, FinalSigmaFollowsPythonLower) {
  // "ΟΔΟΣ ΣΑΣ. ΑΣΑ": word-final capital sigma lowers to ς, also before '.', else σ.
  EXPECT_EQ(basic("\u039F\u0394\u039F\u03A3 \u03A3\u0391\u03A3. \u0391\u03A3\u0391"),
            (Tokens{"\u03BF\u03B4\u03BF\u03C2", "\u03C3\u03B1\u03C2", ".", "\u03B1\u03C3\u03B1"}));
}

TEST(BasicTokenizer, InvalidUtf8IsAnErrorNamingTheOffset) {
  struct Case {
    std::string text;
    std::string offset;
  };
  const std::vector<Case> cases = {
      {"ab\xFF"
       "cd",
       "byte offset 2"},                         // never valid
      {"abc\xE4\xB8", "byte offset 3"},          // truncated sequence at the end
      {"\xC0\xAF", "byte offset 0"},             // overlong '/'
      {"x\xED\xA0\x80", "byte offset 1"},        // UTF-16 surrogate
      {"ok \xF4\x90\x80\x80", "byte offset 3"},  // above U+10FFFF
      {"\x80", "byte offset 0"},                 // stray continuation byte
  };
  for (const Case& c : cases) {
    auto result = BasicTokenizer().tokenize(c.text);
    ASSERT_FALSE(result.ok()) << c.offset;
    EXPECT_NE(result.status().message().find(c.offset), std::string::npos)
        << result.status().message();
  }
}

TEST(UnicodeProps, NfdReordersCombiningMarks) {
  // U+1E0B (d with dot above) + dot below: NFD puts ccc 220 before ccc 230.
  std::u32string out;
  nfd_decompose(U"\u1E0B\u0323", &out);
  EXPECT_EQ(out, (std::u32string{U'd', 0x323, 0x307}));
}

TEST(UnicodeProps, PythonWhitespaceIsStrIsspace) {
  // Every code point for which CPython 3.11's str.isspace() is true.
  const std::vector<char32_t> expected = {
      0x9,    0xA,    0xB,    0xC,    0xD,    0x1C,   0x1D,   0x1E,   0x1F,   0x20,
      0x85,   0xA0,   0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
      0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
  std::vector<char32_t> actual;
  for (char32_t c = 0; c < 0x110000; ++c) {
    if (is_python_whitespace(c)) actual.push_back(c);
  }
  EXPECT_EQ(actual, expected);
}

TEST(UnicodeProps, PythonLower) {
  std::u32string out;
  python_lower(U"\u0130 \u03A3\u0391\u03A3' \u00AA\u03A3 \u03A3", &out);
  // U+0130 -> i + U+0307; a sigma after a cased letter and before a case-ignorable
  // apostrophe is final; after U+00AA (cased, Other_Lowercase) too; a lone sigma is not.
  EXPECT_EQ(out, (std::u32string{U'i', 0x307, U' ', 0x3C3, 0x3B1, 0x3C2, U'\'', U' ', 0xAA, 0x3C2,
                                 U' ', 0x3C3}));
}

// The unit vocabulary from tokenization_test.py.
std::shared_ptr<const Vocab> tiny_vocab() {
  auto vocab = Vocab::from_text("[UNK]\n[CLS]\n[SEP]\nwant\n##want\n##ed\nwa\nun\nrunn\n##ing\n,\n",
                                "tiny vocab");
  EXPECT_TRUE(vocab.ok());
  return *vocab;
}

TEST(Wordpiece, GreedyLongestMatchFirst) {
  auto tokenizer = BertTokenizer::create(tiny_vocab());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().message();
  EXPECT_EQ(*tokenizer->tokenize("unwanted running"),
            (Tokens{"un", "##want", "##ed", "runn", "##ing"}));
  EXPECT_EQ(*tokenizer->tokenize("UNwant\u00E9d,running"),
            (Tokens{"un", "##want", "##ed", ",", "runn", "##ing"}));
  // One unmatched remainder makes the whole word unknown.
  EXPECT_EQ(*tokenizer->tokenize("unwantedX running"), (Tokens{"[UNK]", "runn", "##ing"}));
  EXPECT_EQ(*tokenizer->tokenize(""), Tokens{});
}

TEST(Wordpiece, LongWordsAreUnknown) {
  auto vocab = Vocab::from_text("[UNK]\na\n##a\n", "a vocab");
  ASSERT_TRUE(vocab.ok());
  auto google = BertTokenizer::create(*vocab);  // tokenization.py: 200 characters
  ASSERT_TRUE(google.ok());
  std::vector<int32_t> ids;
  ASSERT_TRUE(google->encode(std::string(200, 'a'), &ids).ok());
  EXPECT_EQ(ids.size(), 200u);
  ids.clear();
  ASSERT_TRUE(google->encode(std::string(201, 'a'), &ids).ok());
  EXPECT_EQ(ids, std::vector<int32_t>{0});

  TokenizerOptions hf_like;
  hf_like.max_input_chars_per_word = 100;
  auto hf = BertTokenizer::create(*vocab, hf_like);
  ASSERT_TRUE(hf.ok());
  ids.clear();
  ASSERT_TRUE(hf->encode(std::string(100, 'a') + " " + std::string(101, 'a'), &ids).ok());
  ASSERT_EQ(ids.size(), 101u);
  EXPECT_EQ(ids.back(), 0);
  // The limit counts characters, not bytes: 100 two-byte characters are still one word.
  auto accented = Vocab::from_text("[UNK]\n\u00E9\n##\u00E9\n", "accented");
  ASSERT_TRUE(accented.ok());
  TokenizerOptions cased = hf_like;
  cased.do_lower_case = false;
  auto cased_tokenizer = BertTokenizer::create(*accented, cased);
  ASSERT_TRUE(cased_tokenizer.ok());
  ids.clear();
  std::string word;
  for (int i = 0; i < 100; ++i) word += "\u00E9";
  ASSERT_TRUE(cased_tokenizer->encode(word, &ids).ok());
  EXPECT_EQ(ids.size(), 100u);
}

TEST(Wordpiece, CasedVocab) {
  auto vocab = Vocab::from_text("[UNK]\nHello\n##World\nhello\n", "cased");
  ASSERT_TRUE(vocab.ok());
  TokenizerOptions cased;
  cased.do_lower_case = false;
  auto tokenizer = BertTokenizer::create(*vocab, cased);
  ASSERT_TRUE(tokenizer.ok());
  EXPECT_EQ(*tokenizer->tokenize("HelloWorld hello HELLO"),
            (Tokens{"Hello", "##World", "hello", "[UNK]"}));
}

TEST(Wordpiece, EntriesLongerThanTheHashedPrefixBuffer) {
  // A 70-byte entry takes the path that hashes each candidate on its own.
  const std::string long_entry(70, 'b');
  auto vocab = Vocab::from_text("[UNK]\n" + long_entry + "\nb\n##b\n", "long");
  ASSERT_TRUE(vocab.ok());
  auto tokenizer = BertTokenizer::create(*vocab);
  ASSERT_TRUE(tokenizer.ok());
  std::vector<int32_t> ids;
  ASSERT_TRUE(tokenizer->encode(std::string(72, 'b'), &ids).ok());
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 3, 3}));
}

TEST(Vocab, LoadsLinesAsIdsAndKeepsTheLastDuplicate) {
  auto vocab = Vocab::from_text("[UNK]\r\n  x \n##y\ndup\ndup\n\nlast", "v");
  ASSERT_TRUE(vocab.ok());
  const Vocab& v = **vocab;
  EXPECT_EQ(v.size(), 7);
  EXPECT_EQ(v.find("x"), 1);
  EXPECT_EQ(v.token(1), "x");
  EXPECT_EQ(v.find("dup"), 4);  // Python dict: the later line wins
  EXPECT_EQ(v.find(""), 5);
  EXPECT_EQ(v.find("last"), 6);
  EXPECT_EQ(v.continuation_table().find("y"), 2);
  EXPECT_EQ(v.find("absent"), -1);
}

TEST(Vocab, RejectsBadFiles) {
  EXPECT_FALSE(Vocab::from_text("", "empty").ok());
  auto bad = Vocab::from_text("ok\nb\xFFgus\n", "bad.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.txt: line 2"), std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(Vocab::load("/nonexistent/vocab.txt").ok());
  auto no_unk = Vocab::from_text("a\nb\n", "no unk");
  ASSERT_TRUE(no_unk.ok());
  EXPECT_FALSE(BertTokenizer::create(*no_unk).ok());
}

TEST(BertTokenizer, RandomUnicodeMatchesThePythonReference) {
  RATEL_REQUIRE_ASSET(vocab_path, "vocab/bert-base-uncased-vocab.txt");
  auto tokenizer = BertTokenizer::load(vocab_path);
  ASSERT_TRUE(tokenizer.ok());
  const BasicTokenizer cased(false);
  // 500 seeded random strings over all assigned code points (make_unicode_cases.py).
  auto lines = read_text_file(testing::test_data_path("unicode_cases.jsonl"));
  ASSERT_TRUE(lines.ok()) << lines.status().message();
  size_t cases = 0, start = 0;
  while (start < lines->size()) {
    size_t end = lines->find('\n', start);
    if (end == std::string::npos) end = lines->size();
    const auto expected = nlohmann::json::parse(lines->substr(start, end - start), nullptr, false);
    start = end + 1;
    ASSERT_TRUE(expected.is_object()) << "line " << cases + 1;
    const std::string text = expected.at("text").get<std::string>();
    std::vector<int32_t> ids;
    ASSERT_TRUE(tokenizer->encode(text, &ids).ok()) << "line " << cases + 1;
    EXPECT_EQ(basic(text), expected.at("uncased").get<Tokens>()) << "line " << cases + 1;
    EXPECT_EQ(basic(text, false), expected.at("cased").get<Tokens>()) << "line " << cases + 1;
    EXPECT_EQ(ids, expected.at("ids").get<std::vector<int32_t>>()) << "line " << cases + 1;
    ++cases;
  }
  EXPECT_EQ(cases, 500u);
}

TEST(BertTokenizer, RandomBytesNeverCrash) {
  // Arbitrary bytes either tokenize (then they were valid UTF-8) or fail with an offset.
  auto vocab = Vocab::from_text("[UNK]\na\n##a\n", "v");
  ASSERT_TRUE(vocab.ok());
  auto tokenizer = BertTokenizer::create(*vocab);
  ASSERT_TRUE(tokenizer.ok());
  std::mt19937 rng(42);
  const unsigned char interesting[] = {0x00, 0x20, 0x41, 0x7F, 0x80, 0xBF, 0xC2, 0xCC,
                                       0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
  size_t valid = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string bytes(rng() % 24, '\0');
    for (char& b : bytes) {
      b = static_cast<char>(rng() % 2 ? interesting[rng() % sizeof(interesting)] : rng() % 256);
    }
    std::vector<int32_t> ids{7};
    const Status status = tokenizer->encode(bytes, &ids);
    std::u32string decoded;
    const bool is_utf8 = decode_utf8_string(bytes, &decoded, "bytes").ok();
    EXPECT_EQ(status.ok(), is_utf8);
    if (!status.ok()) {
      EXPECT_NE(status.message().find("byte offset"), std::string::npos);
      EXPECT_EQ(ids, std::vector<int32_t>{7});  // untouched on error
    }
    valid += is_utf8;
  }
  EXPECT_GT(valid, 100u);  // both outcomes were exercised
}

TEST(BertTokenizer, RealVocab) {
  RATEL_REQUIRE_ASSET(vocab_path, "vocab/bert-base-uncased-vocab.txt");
  auto tokenizer = BertTokenizer::load(vocab_path);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().message();
  EXPECT_EQ(tokenizer->vocab().size(), 30522);
  EXPECT_EQ(*tokenizer->tokenize("unaffable"), (Tokens{"una", "##ffa", "##ble"}));
  EXPECT_EQ(*tokenizer->tokenize("supercalifragilisticexpialidocious"),
            (Tokens{"super", "##cal", "##if", "##rag", "##ilis", "##tic", "##ex", "##pia", "##lid",
                    "##oc", "##ious"}));
  std::vector<int32_t> ids;
  ASSERT_TRUE(
      tokenizer->encode("Denver Broncos defeated Carolina na\u00EFve caf\u00E9 \u01C5", &ids).ok());
  EXPECT_EQ(ids, (std::vector<int32_t>{7573, 14169, 3249, 3792, 15743, 7668, 100}));
}

}  // namespace
}  // namespace ratel::nlp
