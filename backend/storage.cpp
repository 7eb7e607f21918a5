// backend/storage.cpp
#include "backend/storage.h"

namespace m365vault {
namespace {

// Storage::Create's default: the pieces gathered, written whole at Commit.
class GatheringWriter final : public ObjectWriter {
 public:
  GatheringWriter(Storage& storage, std::string name) : storage_(storage), name_(std::move(name)) {}
  Status Append(ByteView data) override {
    data_.insert(data_.end(), data.begin(), data.end());
    return Status::OK();
  }
  Status Commit() override { return storage_.Write(name_, data_); }

 private:
  Storage& storage_;
  std::string name_;
  Bytes data_;
};

}  // namespace

Result<std::unique_ptr<ObjectWriter>> Storage::Create(std::string_view name) {
  return std::unique_ptr<ObjectWriter>(new GatheringWriter(*this, std::string(name)));
}

}  // namespace m365vault
