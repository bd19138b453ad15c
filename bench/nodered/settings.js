// Node-RED settings for the benchmark peer (bench/nodered_peer.py starts it with --settings).
// Nothing listens: no editor, no admin API (so no way in to the flow or its credentials),
// no HTTP-in routes. Nothing is fetched from the internet at run time.
module.exports = {
    flowFile: "flows.json",
    // flows_cred.json holds only ${...} references to the environment, never a secret.
    credentialSecret: false,
    uiHost: "127.0.0.1",
    uiPort: Number(process.env.BENCH_NODERED_PORT || 0),
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false },
    externalModules: {
        autoInstall: false,
        palette: { allowInstall: false, allowUpload: false },
        modules: { allowInstall: false },
    },
    functionExternalModules: false,
    logging: {
        console: { level: "info", metrics: false, audit: false },
    },
};
