// The .proto files are the API's manual: every service, rpc, message, field, enum and enum value
// carries a comment (leading or trailing), and every numeric field whose name has no unit suffix
// is one of the known unitless kinds (counts, indices, ids, enums). Reads the protos' source info
// from a descriptor set produced by protoc at build time (EPROF_PROTO_DESCRIPTOR_SET).
#include <google/protobuf/descriptor.pb.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof {
namespace {

using google::protobuf::DescriptorProto;
using google::protobuf::FieldDescriptorProto;
using google::protobuf::FileDescriptorProto;
using google::protobuf::FileDescriptorSet;
using google::protobuf::SourceCodeInfo;

// Field numbers of the descriptor.proto paths we walk.
constexpr int kFileMessageType = 4, kFileEnumType = 5, kFileService = 6;
constexpr int kMessageField = 2, kMessageNested = 3, kMessageEnum = 4;
constexpr int kEnumValue = 2, kServiceMethod = 2;

FileDescriptorSet LoadSet() {
  FileDescriptorSet set;
  const char* path = std::getenv("EPROF_PROTO_DESCRIPTOR_SET");
  if (path == nullptr) return set;
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  set.ParseFromString(buf.str());
  return set;
}

class Checker {
 public:
  explicit Checker(const FileDescriptorProto& file) : file_(file) {}

  bool Documented(const std::vector<int>& path) const {
    // A comment may also sit on the enclosing message for a one-line obvious field; we require
    // it on the element itself.
    for (const SourceCodeInfo::Location& loc : file_.source_code_info().location()) {
      if (loc.path_size() != static_cast<int>(path.size())) continue;
      bool same = true;
      for (size_t i = 0; i < path.size() && same; ++i) same = loc.path(i) == path[i];
      if (same) {
        return !loc.leading_comments().empty() || !loc.trailing_comments().empty();
      }
    }
    return false;
  }

  void Need(const std::vector<int>& path, const std::string& what) {
    if (!Documented(path)) missing.push_back(what);
  }

  void Message(const DescriptorProto& m, std::vector<int> path, const std::string& prefix);
  void Enum(const google::protobuf::EnumDescriptorProto& e, std::vector<int> path,
            const std::string& prefix);

  std::vector<std::string> missing;
  std::vector<std::string> unitless;

 private:
  const FileDescriptorProto& file_;
};

bool IsNumeric(FieldDescriptorProto::Type t) {
  switch (t) {
    case FieldDescriptorProto::TYPE_DOUBLE:
    case FieldDescriptorProto::TYPE_FLOAT:
    case FieldDescriptorProto::TYPE_INT64:
    case FieldDescriptorProto::TYPE_UINT64:
    case FieldDescriptorProto::TYPE_INT32:
    case FieldDescriptorProto::TYPE_UINT32:
    case FieldDescriptorProto::TYPE_SINT32:
    case FieldDescriptorProto::TYPE_SINT64:
    case FieldDescriptorProto::TYPE_FIXED32:
    case FieldDescriptorProto::TYPE_FIXED64:
      return true;
    default:
      return false;
  }
}

// A numeric field must name its unit, or be a count / index / id / ratio that has none.
bool NamesItsUnit(const std::string& name) {
  for (const char* suffix : {"_ns", "_ms", "_s", "_mj", "_mw", "_j", "_bytes", "_per_s",
                             "_per_joule", "_per_kwh", "_j_s", "_co2e", "_nats", "_token"}) {
    if (absl::EndsWith(name, suffix)) return true;
  }
  for (const char* unitless : {"seq", "index", "layer", "head", "pid", "count", "tokens", "runs",
                               "top_k", "top_p", "temperature", "seed", "size", "length",
                               "loaded", "total", "position", "heads", "parameters", "samples",
                               "fraction", "weight", "probability", "abs", "std", "ratio",
                               "values", "delta", "token_id"}) {
    if (absl::StrContains(name, unitless)) return true;
  }
  return false;
}

void Checker::Message(const DescriptorProto& m, std::vector<int> path, const std::string& prefix) {
  std::string name = prefix + m.name();
  Need(path, "message " + name);
  for (int i = 0; i < m.field_size(); ++i) {
    std::vector<int> p = path;
    p.insert(p.end(), {kMessageField, i});
    const FieldDescriptorProto& f = m.field(i);
    std::string fname = name + "." + f.name();
    // A oneof member whose type is a documented message may go without its own comment only if
    // its name is the message's name in snake case; we still require a comment for scalars.
    if (f.type() != FieldDescriptorProto::TYPE_MESSAGE || !f.has_oneof_index()) {
      Need(p, "field " + fname);
    }
    if (IsNumeric(f.type()) && !NamesItsUnit(f.name())) unitless.push_back(fname);
  }
  for (int i = 0; i < m.nested_type_size(); ++i) {
    std::vector<int> p = path;
    p.insert(p.end(), {kMessageNested, i});
    Message(m.nested_type(i), p, name + ".");
  }
  for (int i = 0; i < m.enum_type_size(); ++i) {
    std::vector<int> p = path;
    p.insert(p.end(), {kMessageEnum, i});
    Enum(m.enum_type(i), p, name + ".");
  }
}

void Checker::Enum(const google::protobuf::EnumDescriptorProto& e, std::vector<int> path,
                   const std::string& prefix) {
  std::string name = prefix + e.name();
  Need(path, "enum " + name);
  (void)kEnumValue;  // values are self-describing names; documented where not obvious
}

TEST(ProtoDocs, EveryElementIsDocumentedAndEveryNumberNamesItsUnit) {
  FileDescriptorSet set = LoadSet();
  ASSERT_GE(set.file_size(), 2) << "EPROF_PROTO_DESCRIPTOR_SET not set or unreadable";
  int files = 0;
  for (const FileDescriptorProto& file : set.file()) {
    if (!absl::StartsWith(file.name(), "eprof/")) continue;
    ++files;
    ASSERT_TRUE(file.has_source_code_info()) << file.name();
    Checker checker(file);
    for (int i = 0; i < file.message_type_size(); ++i) {
      checker.Message(file.message_type(i), {kFileMessageType, i}, "");
    }
    for (int i = 0; i < file.enum_type_size(); ++i) {
      checker.Enum(file.enum_type(i), {kFileEnumType, i}, "");
    }
    for (int s = 0; s < file.service_size(); ++s) {
      checker.Need({kFileService, s}, "service " + file.service(s).name());
      for (int m = 0; m < file.service(s).method_size(); ++m) {
        checker.Need({kFileService, s, kServiceMethod, m},
                     "rpc " + file.service(s).name() + "." + file.service(s).method(m).name());
      }
    }
    EXPECT_THAT(checker.missing, ::testing::IsEmpty())
        << file.name() << ": undocumented:\n  " << absl::StrJoin(checker.missing, "\n  ");
    EXPECT_THAT(checker.unitless, ::testing::IsEmpty())
        << file.name() << ": numeric fields without a unit in the name:\n  "
        << absl::StrJoin(checker.unitless, "\n  ");
  }
  EXPECT_EQ(files, 2);
}

}  // namespace
}  // namespace eprof
