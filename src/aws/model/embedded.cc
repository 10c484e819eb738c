// The embedded models: an index built once, each (model, protocol) variant parsed on first use.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "aws/model/embedded_index.h"
#include "aws/model/model.h"

namespace stratus::aws {
namespace {

constexpr size_t kProtocolCount = 5;  // Protocol enumerators

struct Slot {
  std::string stem;
  std::string short_name;  // stem without the "-YYYY-MM-DD" version
  const internal::EmbeddedFile* model = nullptr;
  const internal::EmbeddedFile* overlay = nullptr;
  std::array<std::once_flag, kProtocolCount + 1> once;
  std::array<std::unique_ptr<ServiceModel>, kProtocolCount + 1> variants;  // written under `once`
};

// "sqs-2012-11-05" -> "sqs".
std::string ShortName(const std::string& stem) {
  constexpr size_t kDateLen = 11;  // "-2012-11-05"
  if (stem.size() > kDateLen && stem[stem.size() - kDateLen] == '-' &&
      stem[stem.size() - 6] == '-' && stem[stem.size() - 3] == '-') {
    return stem.substr(0, stem.size() - kDateLen);
  }
  return stem;
}

std::vector<std::unique_ptr<Slot>>& Slots() {
  static std::vector<std::unique_ptr<Slot>> slots = [] {
    std::vector<std::unique_ptr<Slot>> out;
    for (size_t i = 0; i < internal::kEmbeddedFileCount; ++i) {
      const auto& f = internal::kEmbeddedFiles[i];
      if (f.overlay) continue;
      auto slot = std::make_unique<Slot>();
      slot->stem = f.stem;
      slot->short_name = ShortName(slot->stem);
      slot->model = &f;
      out.push_back(std::move(slot));
    }
    for (size_t i = 0; i < internal::kEmbeddedFileCount; ++i) {
      const auto& f = internal::kEmbeddedFiles[i];
      if (!f.overlay) continue;
      bool matched = false;
      for (auto& slot : out) {
        if (slot->stem == f.stem) {
          slot->overlay = &f;
          matched = true;
        }
      }
      if (!matched) {
        std::fprintf(stderr, "stratus: overlay models/overlays/%s.json matches no model\n", f.stem);
        std::abort();
      }
    }
    return out;
  }();
  return slots;
}

Slot* FindSlot(std::string_view name) {
  for (auto& slot : Slots()) {
    if (slot->stem == name || slot->short_name == name) return slot.get();
  }
  return nullptr;
}

Json ParseEmbedded(const internal::EmbeddedFile& f) {
  Json doc = ParseJsonOrDiscarded(std::string_view(f.begin, f.end - f.begin));
  if (doc.is_discarded() || !doc.is_object()) {
    std::fprintf(stderr, "stratus: embedded %s '%s' is not valid JSON (build defect)\n",
                 f.overlay ? "overlay" : "model", f.stem);
    std::abort();
  }
  return doc;
}

[[noreturn]] void Die(const Slot& slot, const std::string& why) {
  std::fprintf(stderr, "stratus: embedded model '%s' is malformed: %s\n", slot.stem.c_str(),
               why.c_str());
  std::abort();
}

// The protocols an overlay adds (in file order).
std::vector<Protocol> OverlayProtocols(const Slot& slot) {
  std::vector<Protocol> out;
  if (slot.overlay == nullptr) return out;
  Json overlay = ParseEmbedded(*slot.overlay);
  auto it = overlay.find("protocols");
  if (it == overlay.end() || !it->is_object()) return out;
  for (const auto& [name, patch] : it->items()) {
    auto p = ParseProtocol(name);
    if (!p) Die(slot, "overlay names unknown protocol '" + name + "'");
    out.push_back(*p);
  }
  return out;
}

// Loads the variant for `protocol` (nullopt: the model's own) or leaves it null when the overlay
// declares no such variant. Called under the slot's once_flag.
std::unique_ptr<ServiceModel> Load(const Slot& slot, std::optional<Protocol> protocol) {
  Json doc = ParseEmbedded(*slot.model);
  if (slot.overlay != nullptr) {
    Json overlay = ParseEmbedded(*slot.overlay);
    try {
      if (auto it = overlay.find("patch"); it != overlay.end()) doc.merge_patch(*it);
      if (protocol) {
        auto protocols = overlay.find("protocols");
        auto name = std::string(ProtocolName(*protocol));
        if (protocols == overlay.end() || !protocols->contains(name)) return nullptr;
        doc.merge_patch((*protocols)[name]);
        doc["metadata"]["protocol"] = name;
        doc["metadata"]["protocols"] = Json::array({name});
      }
    } catch (const std::exception& e) {
      Die(slot, e.what());
    }
  } else if (protocol) {
    return nullptr;
  }
  auto model = ServiceModel::FromJson(doc);
  if (!model.ok()) Die(slot, model.error().message);
  return std::move(model).value();
}

}  // namespace

const ServiceModel* FindEmbeddedModel(std::string_view name, std::optional<Protocol> protocol) {
  Slot* slot = FindSlot(name);
  if (slot == nullptr) return nullptr;
  // Index 0 holds the model as its own protocol; index p + 1 the overlay variant for protocol p.
  std::call_once(slot->once[0], [&] { slot->variants[0] = Load(*slot, std::nullopt); });
  const ServiceModel* own = slot->variants[0].get();
  if (!protocol || own->metadata().protocol == *protocol) return own;
  size_t index = static_cast<size_t>(*protocol) + 1;
  std::call_once(slot->once[index], [&] { slot->variants[index] = Load(*slot, protocol); });
  return slot->variants[index].get();
}

std::vector<std::string> EmbeddedModelNames() {
  std::vector<std::string> out;
  for (const auto& slot : Slots()) out.push_back(slot->stem);
  return out;
}

std::vector<Protocol> EmbeddedModelProtocols(std::string_view name) {
  std::vector<Protocol> out;
  Slot* slot = FindSlot(name);
  if (slot == nullptr) return out;
  const ServiceModel* own = FindEmbeddedModel(name);
  out.push_back(own->metadata().protocol);
  for (Protocol p : OverlayProtocols(*slot)) {
    if (p != own->metadata().protocol) out.push_back(p);
  }
  return out;
}

}  // namespace stratus::aws
