using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ActorImages.Node.Config;
using Akka.Actor;
using Akka.Event;

namespace ActorImages.Node.Cluster;

/// <summary>
/// Joins the cluster without a seed list, for <c>docker compose up --scale node=N</c> (hocon/container.conf): the
/// service name (<c>actorimages.discovery-service</c>) resolves in DNS to every node's address; each is asked for
/// its <c>/api/cluster</c>. When one already belongs to a cluster with Up members, this node joins those; when none
/// does and at least <c>bootstrap-required-contacts</c> answer, the node with the lowest address forms the cluster
/// and the others join it on their next round. The same rule as Akka.Management's Cluster Bootstrap, whose HTTP
/// server (Akka.Http.Shim over Ceen.Httpd) fails on the Ceen.Httpd version the package registry here serves.
/// </summary>
public sealed class DnsBootstrapActor : ReceiveActor, IWithTimers
{
    private sealed record Probe : INoSerializationVerificationNeeded
    {
        public static readonly Probe Instance = new();
    }

    private sealed record Probed(IReadOnlyList<IPAddress> Contacts, IReadOnlyList<string> UpMembers) : INoSerializationVerificationNeeded;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly NodeSettings _settings;
    private readonly RemoteTls _tls;
    private readonly HttpClient _http;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Creates the actor.</summary>
    /// <param name="settings">Node settings (service name, required contacts, HTTP port).</param>
    /// <param name="tls">This node's remoting security: the members' names are joined in its protocol.</param>
    /// <param name="http">A client for the contacts' HTTP API.</param>
    public DnsBootstrapActor(NodeSettings settings, RemoteTls tls, HttpClient http)
    {
        _settings = settings;
        _tls = tls;
        _http = http;
        Receive<Probe>(_ => ProbeAsync().PipeTo(Self, failure: e =>
        {
            _log.Info("bootstrap: probing {0} failed: {1}", _settings.DiscoveryService, e.Message);
            return new Probed([], []);
        }));
        Receive<Probed>(Decide);
    }

    /// <summary>Props of the actor.</summary>
    /// <param name="settings">Node settings.</param>
    /// <param name="tls">This node's remoting security.</param>
    /// <param name="http">An HTTP client.</param>
    /// <returns>The props.</returns>
    public static Props Props(NodeSettings settings, RemoteTls tls, HttpClient http) =>
        Akka.Actor.Props.Create(() => new DnsBootstrapActor(settings, tls, http));

    /// <inheritdoc />
    protected override void PreStart() => Timers.StartPeriodicTimer("probe", Probe.Instance, TimeSpan.Zero, TimeSpan.FromSeconds(2));

    private async Task<Probed> ProbeAsync()
    {
        var contacts = await Dns.GetHostAddressesAsync(_settings.DiscoveryService, AddressFamily.InterNetwork);
        var answered = new List<IPAddress>();
        var up = new List<string>();
        foreach (var contact in contacts.Distinct())
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                var json = await _http.GetStringAsync($"http://{contact}:{_settings.HttpPort}/api/cluster", timeout.Token);
                answered.Add(contact);
                using var doc = JsonDocument.Parse(json);
                up.AddRange(doc.RootElement.GetProperty("members").EnumerateArray()
                    .Where(m => m.GetProperty("status").GetString() == "Up")
                    .Select(m => m.GetProperty("address").GetString()!));
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException)
            {
                // not up yet
            }
        }
        return new Probed(answered, up.Distinct().ToList());
    }

    private void Decide(Probed probed)
    {
        if (probed.UpMembers.Count > 0)
        {
            // Akka retries the join through these seeds by itself until it succeeds. /api/cluster names members in
            // akka.tcp form (RemoteTls.NodeName); they are reached in this node's protocol.
            _log.Info("bootstrap: joining the running cluster through {0}", string.Join(", ", probed.UpMembers));
            _cluster.JoinSeedNodes(probed.UpMembers.Select(a => _tls.ToTransport(Address.Parse(a))));
            Context.Stop(Self);
            return;
        }
        if (probed.Contacts.Count < _settings.BootstrapRequiredContacts) return;
        var lowest = probed.Contacts.OrderBy(a => a.GetAddressBytes(), ByteOrder.Instance).First();
        if (lowest.ToString() == _settings.Host)
        {
            _log.Info("bootstrap: {0} contacts and no cluster; this node has the lowest address and forms it", probed.Contacts.Count);
            _cluster.Join(_cluster.SelfAddress);
            Context.Stop(Self);
        }
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => ((ReadOnlySpan<byte>)x).SequenceCompareTo(y);
    }
}
