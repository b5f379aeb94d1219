using System.Collections.Immutable;
using ActorImages.Node.Config;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Akka.Management.Dsl;
using Newtonsoft.Json;

namespace ActorImages.Node.Cluster;

/// <summary>
/// Joining through Akka.Management's Cluster Bootstrap (<c>actorimages.cluster-bootstrap = on</c>; the container
/// profile, so that <c>docker compose up --scale node=N</c> needs no seed list). Akka's <see cref="ClusterBootstrap"/>
/// discovers the contact points (<see cref="DnsARecordDiscovery"/> or Akka's <c>config</c> method), probes each one's
/// <c>GET /bootstrap/seed-nodes</c> on the management port, and joins the members one of them reports; when none
/// reports any and at least <c>bootstrap-required-contacts</c> have answered (all that were discovered), the contact
/// point with the lowest address joins itself and the others then join it (Akka's <c>LowestAddressJoinDecider</c>).
/// <para>
/// The contact point is served by this node's Kestrel (<see cref="MapSeedNodes"/>), not by Akka.Management's own HTTP
/// server (<c>AkkaManagement.Start()</c>): that server is Akka.Http.Shim 1.5.73 over Ceen.Httpd, and the shim calls
/// <c>HttpServer.ListenAsync(IPEndPoint, …)</c> of Ceen.Httpd 0.9.9, which 0.9.10 — the only version the package
/// registry here serves — replaced by <c>ListenAsync(EndPoint, …)</c>: it fails with a MissingMethodException.
/// The answer is the one Akka.Management's <c>HttpClusterBootstrapRoutes</c> gives, built from the same types and
/// serialized with the same Newtonsoft.Json, so Akka's prober reads it unchanged.
/// </para>
/// </summary>
public static class ClusterBootstrapping
{
    /// <summary>The Akka.Discovery method name of <see cref="DnsARecordDiscovery"/>.</summary>
    public const string DnsMethod = "actorimages-dns";

    /// <summary>The path Cluster Bootstrap probes on every contact point (Akka.Management's route).</summary>
    public const string SeedNodesPath = "/bootstrap/seed-nodes";

    /// <summary>
    /// The Akka configuration of the bootstrap, to put in front of the node's: the management host and port (this
    /// node's contact point), the discovery method, contact points probed on the management port when discovery
    /// gives none, lookups every second and a join decision once the contact points were stable for 3 s (Akka's
    /// default is 5 s; 3 s keeps a compose start short, and required contacts still guard against two clusters).
    /// </summary>
    /// <param name="settings">The node settings (<c>cluster-bootstrap</c> on).</param>
    /// <returns>The configuration to prepend.</returns>
    public static Akka.Configuration.Config Hocon(NodeSettings settings)
    {
        var service = Quote(settings.DiscoveryService);
        var method = settings.DiscoveryMethod == "config" ? "config" : DnsMethod;
        var endpoints = string.Join(", ", settings.DiscoveryEndpoints.Select(Quote));
        return ConfigurationFactory.ParseString($$"""
            akka.management {
              http { hostname = {{Quote(settings.Host)}}, port = {{settings.ManagementPort}} }
              cluster.bootstrap {
                contact-point {
                  fallback-port = {{settings.ManagementPort}}
                  probe-interval = 1s
                }
                contact-point-discovery {
                  service-name = {{service}}
                  discovery-method = {{method}}
                  required-contact-point-nr = {{settings.BootstrapRequiredContacts}}
                  stable-margin = 3s
                  interval = 1s
                }
              }
            }
            akka.discovery {
              {{DnsMethod}}.class = "{{typeof(DnsARecordDiscovery).FullName}}, {{typeof(DnsARecordDiscovery).Assembly.GetName().Name}}"
              config.services.{{service}}.endpoints = [{{endpoints}}]
            }
            """);
    }

    /// <summary>Serves <see cref="SeedNodesPath"/> on the management port only.</summary>
    /// <param name="app">The node's web application; its services hold the <see cref="ActorSystem"/>.</param>
    /// <param name="settings">The node settings.</param>
    public static void MapSeedNodes(WebApplication app, NodeSettings settings) =>
        app.MapGet(SeedNodesPath, (ActorSystem system) => Results.Content(SeedNodesJson(system), "application/json"))
            .RequireHost($"*:{settings.ManagementPort}");

    /// <summary>
    /// The answer of <see cref="SeedNodesPath"/>, as Akka.Management's <c>HttpClusterBootstrapRoutes</c> gives it:
    /// <c>{"SelfNode": address, "Nodes": [{"Node", "NodeUid", "Status", "Roles"}]}</c> listing the reachable members
    /// that are Joining, Up or WeaklyUp, at most <c>contact-point.max-seed-nodes-to-expose</c> of them, in random
    /// order; no member while this node is leaving or gone. Addresses are in the remoting protocol
    /// (<c>akka.ssl.tcp</c> with TLS), so the prober joins them as they are.
    /// </summary>
    /// <param name="system">The node's actor system.</param>
    /// <returns>The JSON text.</returns>
    public static string SeedNodesJson(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var self = cluster.SelfMember;
        var nodes = ImmutableList<HttpBootstrapJsonProtocol.ClusterMember>.Empty;
        if (self.Status is not (MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.Down or MemberStatus.Removed))
        {
            var state = cluster.State;
            var max = system.Settings.Config.GetInt("akka.management.cluster.bootstrap.contact-point.max-seed-nodes-to-expose", 5);
            var members = state.Members.Where(m => !state.Unreachable.Contains(m))
                .Where(m => m.Status is MemberStatus.Joining or MemberStatus.Up or MemberStatus.WeaklyUp)
                .Take(max)
                .Select(m => new HttpBootstrapJsonProtocol.ClusterMember(m.UniqueAddress.Address, m.UniqueAddress.Uid, m.Status, m.Roles))
                .ToArray();
            Random.Shared.Shuffle(members);
            nodes = [.. members];
        }
        return JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(self.Address, nodes));
    }

    /// <summary>
    /// Starts Cluster Bootstrap: tells it its own contact point (<c>http://host:management-port/</c>, which
    /// <c>AkkaManagement.Start()</c> would otherwise do when collecting routes; without it Akka cannot tell whether it
    /// holds the lowest address) and starts its coordinator, which keeps probing until the node has joined.
    /// </summary>
    /// <param name="system">The node's actor system, seed nodes empty.</param>
    /// <param name="settings">The node settings.</param>
    /// <returns>A task that completes once the coordinator runs (not when the node has joined).</returns>
    public static Task StartAsync(ActorSystem system, NodeSettings settings)
    {
        var bootstrap = ClusterBootstrap.Get(system);
        bootstrap.Routes(ManagementRouteProviderSettings.Create(new Uri($"http://{settings.Host}:{settings.ManagementPort}/"), readOnly: true));
        return bootstrap.Start();
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
