using System.Reflection;
using System.Text;
using Akka.Configuration;

namespace ActorImages.Node.Config;

/// <summary>
/// Builds a node's configuration: the embedded <c>reference.conf</c> (every default), under the profile file named by
/// <c>ACTORIMAGES_CONFIG</c> (e.g. <c>hocon/local.conf</c>), under the <c>ACTORIMAGES_*</c> environment variables.
/// So a variable beats the profile, and the profile beats the defaults (README "Configuration").
/// </summary>
public static class NodeConfig
{
    /// <summary>Each environment variable and the HOCON key it sets; the value is quoted as a string, which HOCON
    /// converts to the key's type (durations such as <c>30s</c>, sizes such as <c>16 MiB</c>, numbers).</summary>
    public static readonly IReadOnlyDictionary<string, string> Variables = new Dictionary<string, string>
    {
        ["ACTORIMAGES_HOST"] = "actorimages.host",
        ["ACTORIMAGES_DATA_DIR"] = "actorimages.data-dir",
        ["ACTORIMAGES_DB_URL"] = "actorimages.db-url",
        ["ACTORIMAGES_MAX_IMAGE_BYTES"] = "actorimages.max-image-bytes",
        ["ACTORIMAGES_MAX_IMAGE_PIXELS"] = "actorimages.max-image-pixels",
        ["ACTORIMAGES_REPLICATION_FACTOR"] = "actorimages.replication-factor",
        ["ACTORIMAGES_ADMIN_TOKEN"] = "actorimages.admin-token",
        ["ACTORIMAGES_P1_PORT"] = "actorimages.p1.port",
        ["ACTORIMAGES_P1_IDLE_TIMEOUT"] = "actorimages.p1.idle-timeout",
        ["ACTORIMAGES_P1_MAX_CONNECTIONS"] = "actorimages.p1.max-connections",
        ["ACTORIMAGES_HTTP_MAX_CONNECTIONS"] = "actorimages.http.max-connections",
        ["ACTORIMAGES_P2_PORT"] = "actorimages.p2.port",
        ["ACTORIMAGES_P2_HISTORY_SIZE"] = "actorimages.p2.history-size",
        ["ACTORIMAGES_P3_PORT"] = "actorimages.p3.port",
        ["ACTORIMAGES_P3_REPLIES_PER_SECOND"] = "actorimages.p3.replies-per-second",
        ["ACTORIMAGES_P4_PORT"] = "actorimages.p4.port",
        ["ACTORIMAGES_P4_REQUEST_TIMEOUT"] = "actorimages.p4.request-timeout",
        ["ACTORIMAGES_HTTP_PORT"] = "actorimages.http.port",
        ["ACTORIMAGES_ASK_TIMEOUT"] = "actorimages.ask-timeout",
        ["ACTORIMAGES_REPLICATION_TIMEOUT"] = "actorimages.replication-timeout",
        ["ACTORIMAGES_REPAIR_INTERVAL"] = "actorimages.repair-interval",
        ["ACTORIMAGES_REPAIR_SCAN_REST"] = "actorimages.repair-scan-rest",
        ["ACTORIMAGES_SCRUB_PACE"] = "actorimages.scrub-pace",
        ["ACTORIMAGES_ORPHAN_GRACE"] = "actorimages.orphan-grace",
        ["ACTORIMAGES_CLUSTER_BOOTSTRAP"] = "actorimages.cluster-bootstrap",
        ["ACTORIMAGES_DISCOVERY_METHOD"] = "actorimages.discovery-method",
        ["ACTORIMAGES_DISCOVERY_SERVICE"] = "actorimages.discovery-service",
        ["ACTORIMAGES_BOOTSTRAP_REQUIRED_CONTACTS"] = "actorimages.bootstrap-required-contacts",
        ["ACTORIMAGES_MANAGEMENT_PORT"] = "actorimages.management-port",
        ["ACTORIMAGES_REMOTE_PORT"] = "akka.remote.dot-netty.tcp.port",
        ["ACTORIMAGES_REPLICA_PORT"] = "actorimages.replica-port",
        ["ACTORIMAGES_REMOTE_TLS"] = "actorimages.remote-tls.enabled",
        ["ACTORIMAGES_CLUSTER_CERT"] = "actorimages.remote-tls.certificate",
        ["ACTORIMAGES_CLUSTER_CERT_PASSWORD"] = "actorimages.remote-tls.password",
        ["ACTORIMAGES_LOGLEVEL"] = "akka.loglevel",
        ["ACTORIMAGES_LOG_BUFFER"] = "actorimages.log-buffer",
    };

    /// <summary>Each environment variable holding a comma-separated list and the HOCON list it sets: the seed nodes
    /// (<c>akka.tcp://ActorImages@host:port</c>) and Cluster Bootstrap's fixed contact points (<c>host</c> or
    /// <c>host:port</c>).</summary>
    public static readonly IReadOnlyDictionary<string, string> ListVariables = new Dictionary<string, string>
    {
        ["ACTORIMAGES_SEED_NODES"] = "akka.cluster.seed-nodes",
        ["ACTORIMAGES_DISCOVERY_ENDPOINTS"] = "actorimages.discovery-endpoints",
    };

    /// <summary>The embedded defaults.</summary>
    /// <returns>The parsed <c>reference.conf</c>.</returns>
    public static Akka.Configuration.Config Reference()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("ActorImages.Node.reference.conf")
            ?? throw new InvalidOperationException("reference.conf is not embedded");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }

    /// <summary>Merges environment, profile and defaults.</summary>
    /// <param name="environment">The process environment (name to value).</param>
    /// <returns>The node's whole configuration, Akka's included.</returns>
    /// <exception cref="ConfigurationException">The profile file is missing or not HOCON.</exception>
    public static Akka.Configuration.Config Load(IReadOnlyDictionary<string, string> environment)
    {
        var config = Reference();
        if (environment.TryGetValue("ACTORIMAGES_CONFIG", out var profile) && profile.Length > 0)
        {
            if (!File.Exists(profile))
                throw new ConfigurationException($"ACTORIMAGES_CONFIG names {profile}, which does not exist");
            config = ConfigurationFactory.ParseString(File.ReadAllText(profile)).WithFallback(config);
        }
        var overrides = new StringBuilder();
        foreach (var (variable, key) in Variables)
        {
            if (environment.TryGetValue(variable, out var value) && value.Length > 0)
                overrides.Append(key).Append(" = ").Append(Quote(value)).Append('\n');
        }
        // One variable for a whole list (comma-separated): simpler than HOCON's one-variable-per-element.
        foreach (var (variable, key) in ListVariables)
        {
            if (!environment.TryGetValue(variable, out var value) || value.Length == 0) continue;
            var list = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            overrides.Append(key).Append(" = [").Append(string.Join(", ", list.Select(Quote))).Append("]\n");
        }
        return overrides.Length == 0 ? config : ConfigurationFactory.ParseString(overrides.ToString()).WithFallback(config);
    }

    /// <summary>The current process environment as a dictionary.</summary>
    /// <returns>Name to value.</returns>
    public static IReadOnlyDictionary<string, string> ProcessEnvironment() =>
        Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
