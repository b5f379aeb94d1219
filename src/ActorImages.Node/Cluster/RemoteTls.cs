using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Hosting;

namespace ActorImages.Node.Cluster;

/// <summary>
/// Cluster remoting over TLS with mutual authentication (docs/design.md "Membership and failure"; issue 9, "No one
/// joins or steers the cluster uninvited"). Every node of one cluster holds the same cluster certificate, a PKCS#12
/// file with its private key (<c>actorimages.remote-tls.certificate</c>, created by <c>bin/cluster up</c> and
/// <c>docker/init-secrets</c>). On every remoting connection both ends present it (Akka.Remote's
/// <c>require-mutual-authentication</c>: the server asks for the client's certificate and drops a client without
/// one), and each end accepts the other only when the certificate presented is byte for byte the cluster
/// certificate — whose private key the peer proves it holds in the handshake. Chain trust is not what decides: the
/// certificate is self-signed and pinned, so no public CA can vouch for a stranger. A process without the
/// certificate and its key cannot associate with a node, so it cannot join, down members or send any message.
/// </summary>
public sealed class RemoteTls
{
    /// <summary>Akka's protocol of plain TCP remoting (<c>akka.tcp://System@host:port</c>).</summary>
    public const string PlainProtocol = "akka.tcp";

    /// <summary>Akka's protocol of TLS remoting: the DotNetty transport prefixes <c>ssl.</c> when TLS is on.</summary>
    public const string TlsProtocol = "akka.ssl.tcp";

    private RemoteTls(X509Certificate2? certificate) => Certificate = certificate;

    /// <summary>The cluster certificate with its private key; null when TLS is off.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>Whether remoting speaks TLS.</summary>
    public bool Enabled => Certificate is not null;

    /// <summary>The protocol of this node's remoting addresses: <see cref="TlsProtocol"/> or <see cref="PlainProtocol"/>.</summary>
    public string Protocol => Enabled ? TlsProtocol : PlainProtocol;

    /// <summary>
    /// Reads <c>actorimages.remote-tls</c>: TLS is on unless <c>enabled = off</c>, and then a certificate is required.
    /// Without one the node refuses to start rather than open its remoting port to anyone: a plain port lets any
    /// process that reaches it join the cluster, down members and send any message.
    /// </summary>
    /// <param name="config">The merged node configuration.</param>
    /// <param name="now">The current time, to refuse a certificate outside its validity period.</param>
    /// <returns>The remoting security of this node.</returns>
    /// <exception cref="ConfigurationException">TLS is on and the certificate is missing, unreadable (wrong
    /// password), without its private key or outside its validity period; or TLS is off and a certificate is set.</exception>
    public static RemoteTls Load(Akka.Configuration.Config config, DateTimeOffset now)
    {
        var c = config.GetConfig("actorimages.remote-tls") ?? throw new ConfigurationException("missing actorimages.remote-tls");
        var path = c.GetString("certificate", "") ?? "";
        if (!c.GetBoolean("enabled", true))
        {
            if (path.Length > 0)
                throw new ConfigurationException("actorimages.remote-tls.enabled is off but a cluster certificate is set " +
                                                 "(ACTORIMAGES_CLUSTER_CERT): TLS is on whenever a certificate is configured; remove one of the two");
            return new RemoteTls(null);
        }
        if (path.Length == 0)
            throw new ConfigurationException(
                "remoting needs the cluster certificate: set ACTORIMAGES_CLUSTER_CERT (actorimages.remote-tls.certificate) to its " +
                "PKCS#12 file and ACTORIMAGES_CLUSTER_CERT_PASSWORD to its password (bin/cluster up and docker/init-secrets create " +
                "run/cluster-cert.pfx). Without TLS any process that reaches the remoting port can join the cluster and down its " +
                "members; to run so anyway, on a network no one else reaches, set ACTORIMAGES_REMOTE_TLS=off");
        if (!File.Exists(path))
            throw new ConfigurationException($"the cluster certificate {path} (ACTORIMAGES_CLUSTER_CERT) does not exist");
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, c.GetString("password", "") ?? "");
        }
        catch (CryptographicException e)
        {
            throw new ConfigurationException($"cannot read the cluster certificate {path} as PKCS#12 with the password of " +
                                             $"ACTORIMAGES_CLUSTER_CERT_PASSWORD: {e.Message}");
        }
        if (!certificate.HasPrivateKey)
            throw new ConfigurationException($"the cluster certificate {path} holds no private key");
        if (now < certificate.NotBefore || now > certificate.NotAfter)
            throw new ConfigurationException($"the cluster certificate {path} is valid only from {certificate.NotBefore:u} " +
                                             $"to {certificate.NotAfter:u}");
        return new RemoteTls(certificate);
    }

    /// <summary>Whether <paramref name="peer"/> is the cluster certificate (same DER bytes).</summary>
    /// <param name="peer">The certificate a peer presented (remoting, or either end of the replica channel,
    /// <see cref="Transfer.ReplicaChannel"/>), or null when it presented none.</param>
    /// <returns>True only for the cluster certificate itself.</returns>
    public bool Accepts(X509Certificate? peer) =>
        Certificate is not null && peer is not null
        && (peer is X509Certificate2 p2 ? p2.RawDataMemory.Span : peer.GetRawCertData()).SequenceEqual(Certificate.RawDataMemory.Span);

    /// <summary>The remoting options of Akka.Hosting for this node: plain, or TLS with mutual authentication, no
    /// host name check (nodes are reached by IP address and share one certificate) and <see cref="Accepts"/> as
    /// the only validation, on both the accepting and the connecting side.</summary>
    /// <param name="host">The address the remoting port binds to and advertises.</param>
    /// <param name="port">The remoting port.</param>
    /// <returns>Options for <c>WithRemoting</c>.</returns>
    public RemoteOptions Options(string host, int port) => new()
    {
        HostName = host,
        Port = port,
        EnableSsl = Enabled,
        Ssl = Enabled
            ? new SslOptions
            {
                X509Certificate = Certificate,
                RequireMutualAuthentication = true,
                ValidateCertificateHostname = false,
                SuppressValidation = false,
                CustomValidator = Validate,
            }
            : new SslOptions(),
    };

    /// <summary>The configuration with every <c>akka.cluster.seed-nodes</c> address in this node's protocol, so one
    /// seed list (written <c>akka.tcp://…</c> in <c>hocon/local.conf</c> and <c>ACTORIMAGES_SEED_NODES</c>) serves
    /// with TLS on and off.</summary>
    /// <param name="config">The merged node configuration.</param>
    /// <returns>The same configuration, seed nodes rewritten.</returns>
    public Akka.Configuration.Config WithTransportSeeds(Akka.Configuration.Config config)
    {
        var seeds = config.GetStringList("akka.cluster.seed-nodes", []);
        if (seeds.Count == 0) return config;
        var rewritten = seeds.Select(s => "\"" + ToTransport(Address.Parse(s)) + "\"");
        return ConfigurationFactory.ParseString($"akka.cluster.seed-nodes = [{string.Join(", ", rewritten)}]").WithFallback(config);
    }

    /// <summary>An address in this node's remoting protocol (for joining an address read from another node).</summary>
    /// <param name="address">A node address in either protocol.</param>
    /// <returns>The address with <see cref="Protocol"/>.</returns>
    public Address ToTransport(Address address) => address.WithProtocol(Protocol);

    /// <summary>
    /// The name of a node in the catalog's replica lists, in placement and in <c>/api/cluster</c>: its Akka address
    /// written with <see cref="PlainProtocol"/> whatever the transport, so replicas recorded before TLS was turned on
    /// still name their node and rendezvous placement does not move when it is.
    /// </summary>
    /// <param name="address">A member's Akka address.</param>
    /// <returns>E.g. <c>akka.tcp://ActorImages@127.0.0.2:25520</c>.</returns>
    public static string NodeName(Address address) => address.WithProtocol(PlainProtocol).ToString();

    private bool Validate(X509Certificate2? certificate, X509Chain? chain, string peer, SslPolicyErrors errors, ILoggingAdapter log)
    {
        if (Accepts(certificate)) return true;
        log.Warning("remoting: refused {0}: it presented {1}, not this cluster's certificate", peer, certificate is null
            ? "no certificate"
            : $"{certificate.Subject} (SHA-256 {certificate.GetCertHashString(HashAlgorithmName.SHA256)})");
        return false;
    }
}
