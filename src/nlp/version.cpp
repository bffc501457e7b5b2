// Placeholder so the nlp library has a translation unit until the tokenizer lands.
namespace ratel::nlp {
int nlp_library_version() { return 1; }
}  // namespace ratel::nlp
