// The deploy folder's fixed sources (src/deploy/templates: main.c, io.c, io.h, process.c,
// process.h, Makefile.in), embedded in the binary at build time by cmake/ratel_embed.cmake.
#pragma once

#include <span>
#include <string_view>

namespace ratel::deploy {

struct TemplateFile {
  std::string_view name;
  std::string_view text;
};

std::span<const TemplateFile> template_files();

}  // namespace ratel::deploy
