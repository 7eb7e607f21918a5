// sync/engine/vcard.cpp
#include "sync/engine/vcard.h"

#include "sync/engine/collector_support.h"
#include "sync/engine/safe_name.h"

namespace m365vault::sync {

namespace {

std::string VcardEscape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == ',' || c == ';') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

void AddLine(std::string* out, const std::string& line) {
  size_t pos = 0, limit = 75;
  while (line.size() - pos > limit) {
    size_t end = pos + limit;
    while (end > pos && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) --end;  // UTF-8 boundary
    out->append(line, pos, end - pos);
    *out += "\r\n ";
    pos = end;
    limit = 74;
  }
  out->append(line, pos, std::string::npos);
  *out += "\r\n";
}

}  // namespace

std::string ContactToVcard(const nlohmann::json& c) {
  std::string v;
  AddLine(&v, "BEGIN:VCARD");
  AddLine(&v, "VERSION:3.0");
  std::string fn = JsonString(c, "displayName");
  if (fn.empty()) fn = (JsonString(c, "givenName") + " " + JsonString(c, "surname"));
  AddLine(&v, "FN:" + VcardEscape(fn));
  AddLine(&v, "N:" + VcardEscape(JsonString(c, "surname")) + ";" + VcardEscape(JsonString(c, "givenName")) + ";" +
                  VcardEscape(JsonString(c, "middleName")) + ";" + VcardEscape(JsonString(c, "title")) + ";" +
                  VcardEscape(JsonString(c, "generation")));
  if (auto nick = JsonString(c, "nickName"); !nick.empty()) AddLine(&v, "NICKNAME:" + VcardEscape(nick));
  if (auto org = JsonString(c, "companyName"); !org.empty() || !JsonString(c, "department").empty()) {
    AddLine(&v, "ORG:" + VcardEscape(org) + ";" + VcardEscape(JsonString(c, "department")));
  }
  if (auto t = JsonString(c, "jobTitle"); !t.empty()) AddLine(&v, "TITLE:" + VcardEscape(t));
  for (const auto& e : c.value("emailAddresses", nlohmann::json::array())) {
    if (auto a = JsonString(e, "address"); !a.empty()) AddLine(&v, "EMAIL;TYPE=INTERNET:" + VcardEscape(a));
  }
  if (auto m = JsonString(c, "mobilePhone"); !m.empty()) AddLine(&v, "TEL;TYPE=CELL:" + VcardEscape(m));
  for (const char* key : {"businessPhones", "homePhones"}) {
    for (const auto& p : c.value(key, nlohmann::json::array())) {
      if (p.is_string()) {
        AddLine(&v, std::string("TEL;TYPE=") + (key[0] == 'b' ? "WORK" : "HOME") + ":" +
                        VcardEscape(RepairUtf8(p.get<std::string>())));
      }
    }
  }
  for (const auto& [key, type] : {std::pair{"businessAddress", "WORK"}, {"homeAddress", "HOME"}, {"otherAddress", "OTHER"}}) {
    auto a = c.find(key);
    if (a == c.end() || !a->is_object() || a->empty()) continue;
    AddLine(&v, std::string("ADR;TYPE=") + type + ":;;" + VcardEscape(JsonString(*a, "street")) + ";" +
                    VcardEscape(JsonString(*a, "city")) + ";" + VcardEscape(JsonString(*a, "state")) + ";" +
                    VcardEscape(JsonString(*a, "postalCode")) + ";" + VcardEscape(JsonString(*a, "countryOrRegion")));
  }
  if (auto b = JsonString(c, "birthday"); b.size() >= 10) AddLine(&v, "BDAY:" + b.substr(0, 10));
  if (auto n = JsonString(c, "personalNotes"); !n.empty()) AddLine(&v, "NOTE:" + VcardEscape(n));
  for (const auto& cat : c.value("categories", nlohmann::json::array())) {
    if (cat.is_string()) AddLine(&v, "CATEGORIES:" + VcardEscape(RepairUtf8(cat.get<std::string>())));
  }
  AddLine(&v, "UID:" + VcardEscape(JsonString(c, "id")));
  if (auto r = JsonString(c, "lastModifiedDateTime"); !r.empty()) AddLine(&v, "REV:" + r);
  AddLine(&v, "END:VCARD");
  return v;
}


}  // namespace m365vault::sync
