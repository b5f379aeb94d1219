using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ActorImages.Node.Cluster;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Serilog;

namespace ActorImages.Node.Transfer;

/// <summary>
/// Both ends of the replica channel (docs/design.md, "Moving bytes between nodes"; README "Limits and security"). With
/// the cluster certificate, replica copies travel over HTTPS on <c>actorimages.replica-port</c> (default 25521): the
/// node serves the internal routes there with the cluster certificate and requires the caller to present it too, and
/// <see cref="ReplicaTransfer"/> presents it and accepts only a node that presents it. Either side is pinned to the
/// certificate's bytes (<see cref="RemoteTls.Accepts"/>), as remoting is: no CA and no host name decide, and the handshake
/// proves the private key. So copies, and the right to store, serve or delete one, are the cluster's only, and no
/// token crosses the network. Without a certificate (remoting plain TCP) the internal routes stay on the HTTP port,
/// guarded by the cluster token (<see cref="ReplicaEndpoints"/>).
/// </summary>
public static class ReplicaChannel
{
    /// <summary>Time a caller has to finish the TLS handshake before the connection is closed (Kestrel's default).</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Adds the replica channel's listener: HTTPS on <paramref name="ip"/>:<paramref name="port"/>, HTTP/1.1, the
    /// cluster certificate as the server's, a client certificate required and accepted only when it is the cluster
    /// certificate (a wrong one is logged as a warning naming its subject and SHA-256; none ends the handshake).</summary>
    /// <param name="kestrel">Kestrel's options (its limits apply to this listener as to the others).</param>
    /// <param name="ip">The node's address (<c>actorimages.host</c>).</param>
    /// <param name="port">The replica port (<c>actorimages.replica-port</c>).</param>
    /// <param name="tls">The cluster certificate; must be <see cref="RemoteTls.Enabled"/>.</param>
    /// <exception cref="InvalidOperationException">When <paramref name="tls"/> holds no certificate.</exception>
    public static void Listen(KestrelServerOptions kestrel, IPAddress ip, int port, RemoteTls tls)
    {
        var certificate = tls.Certificate ?? throw new InvalidOperationException("the replica channel needs the cluster certificate");
        kestrel.Listen(ip, port, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = certificate,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                HandshakeTimeout = HandshakeTimeout,
                ClientCertificateValidation = (presented, _, _) =>
                {
                    if (tls.Accepts(presented)) return true;
                    Log.Warning("replica channel: refused a caller: it presented {Subject} (SHA-256 {Hash}), not this cluster's certificate",
                        presented.Subject, presented.GetCertHashString(HashAlgorithmName.SHA256));
                    return false;
                },
            });
        });
    }

    /// <summary>The handler of <see cref="ReplicaTransfer"/>'s HTTP client: pooled connections (up to
    /// <paramref name="connectionsPerPeer"/> per node, 64 unless the open-file limit is low; idle
    /// for at most 15 s, under the other node's 30 s keep-alive timeout, so a pooled connection is never reused as it
    /// closes) and, with the cluster certificate, TLS that presents it and accepts only a server presenting it.</summary>
    /// <param name="tls">The cluster certificate, or none (plain HTTP on the HTTP port).</param>
    /// <param name="connectionsPerPeer">Most connections to one node (<see cref="Config.NodeSettings.ReplicaConnectionsPerPeer"/>).</param>
    /// <returns>A new handler.</returns>
    public static SocketsHttpHandler ClientHandler(RemoteTls tls, int connectionsPerPeer)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = connectionsPerPeer,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(15),
            ConnectTimeout = HandshakeTimeout,
        };
        if (tls.Certificate is { } certificate)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [certificate],
                // Always the cluster certificate, whatever issuers the server names.
                LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate,
                RemoteCertificateValidationCallback = (_, presented, _, _) => tls.Accepts(presented),
            };
        }
        return handler;
    }
}
