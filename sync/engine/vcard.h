// sync/engine/vcard.h
//
// ContactToVcard: a Graph contact as a vCard 3.0 (.vcf), escaped and folded.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace m365vault::sync {

std::string ContactToVcard(const nlohmann::json& contact);

}  // namespace m365vault::sync
