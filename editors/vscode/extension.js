// Starts `yibao lsp` for .policy files. Everything else (diagnostics, hover,
// definitions, completion, formatting, code actions, semantic tokens, inlay
// hints, outline, the "settle the example claims" code lens) is the server's.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace
    .getConfiguration("yibao")
    .get("server.command", ["yibao", "lsp"]);
  client = new LanguageClient(
    "yibao",
    "yibao policy",
    { command, args },
    {
      documentSelector: [
        { scheme: "file", language: "yibao-policy" },
        { scheme: "untitled", language: "yibao-policy" },
      ],
    }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
