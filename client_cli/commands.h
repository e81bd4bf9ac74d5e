// eprofctl's commands. Each takes the arguments after its name and returns the exit code.
#ifndef EPROF_CLIENT_CLI_COMMANDS_H_
#define EPROF_CLIENT_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "client_cli/client.h"

namespace eprof::cli {

int ProfileCommand(Client& client, const std::vector<std::string>& argv);
int RunsCommand(Client& client, const std::vector<std::string>& argv);
int ModelsCommand(Client& client, const std::vector<std::string>& argv);
int PowerCommand(Client& client, const std::vector<std::string>& argv);
int StatusCommand(Client& client, const std::vector<std::string>& argv);

// Proto → JSON (proto3 mapping; every field printed).
std::string ToJson(const google::protobuf::Message& message, bool pretty = true);

}  // namespace eprof::cli

#endif  // EPROF_CLIENT_CLI_COMMANDS_H_
