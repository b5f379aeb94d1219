using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ActorImages.Testing;

/// <summary>
/// A client of a node's replica channel (docs/design.md, "Moving bytes between nodes"; README "Limits and
/// security"): HTTPS on port 25521 where the node presents the cluster certificate and requires the caller to present
/// it too. Tests use it as a member (presenting the cluster certificate) and as a stranger (another certificate, or
/// none), as <c>ReplicaTransfer</c> would, but written here against the wire so that a node's checks are tested, not
/// reused.
/// </summary>
public static class ReplicaChannelClient
{
    /// <summary>The replica port every node listens on by default (<c>actorimages.replica-port</c>).</summary>
    public const int Port = 25521;

    /// <summary>An HTTP client that presents <paramref name="presented"/> (or no certificate) and accepts only a server
    /// presenting <paramref name="expectedServer"/>, byte for byte.</summary>
    /// <param name="presented">The client certificate with its key, or null for none.</param>
    /// <param name="expectedServer">The certificate the server must present (the cluster certificate).</param>
    /// <param name="timeout">Each request's timeout.</param>
    /// <returns>A new client; the caller disposes it.</returns>
    public static HttpClient Create(X509Certificate2? presented, X509Certificate2 expectedServer, TimeSpan timeout)
    {
        var expected = expectedServer.RawData;
        return new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = presented is null ? null : [presented],
                LocalCertificateSelectionCallback = presented is null ? null : (_, _, _, _, _) => presented,
                RemoteCertificateValidationCallback = (_, server, _, _) =>
                    server is not null && server.GetRawCertData().AsSpan().SequenceEqual(expected),
            },
        }) { Timeout = timeout };
    }

    /// <summary>The URL of an internal route on <paramref name="host"/>'s replica channel.</summary>
    /// <param name="host">The node's address.</param>
    /// <param name="pathAndQuery">For example <c>internal/blobs/a/b.jpg?sha256=…</c>, without a leading slash.</param>
    /// <returns>The absolute URL.</returns>
    public static Uri Url(string host, string pathAndQuery) => new($"https://{host}:{Port}/{pathAndQuery}");

    /// <summary>What a member does with a copy, once: stores <paramref name="image"/> on <paramref name="host"/> under
    /// <paramref name="path"/> (PUT, 201), reads it back (GET, 200, byte-identical) and removes it (DELETE, 204).</summary>
    /// <param name="member">A client presenting the cluster certificate (<see cref="Create"/>).</param>
    /// <param name="host">The node's address.</param>
    /// <param name="path">A relative path no catalog entry uses, for example <c>replica-test/…jpg</c>.</param>
    /// <param name="image">The bytes of a real image (a copy must start as one).</param>
    /// <returns>Null when every step answered as expected, else what went wrong first.</returns>
    /// <exception cref="HttpRequestException">A connection or handshake failed.</exception>
    /// <exception cref="TaskCanceledException">A request timed out.</exception>
    public static async Task<string?> RoundTripAsync(HttpClient member, string host, string path, byte[] image)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(image));
        var url = Url(host, $"internal/replicas/{path}?sha256={sha256}");
        using (var put = await member.PutAsync(url, new ByteArrayContent(image)))
        {
            if (put.StatusCode != HttpStatusCode.Created) return $"PUT answered {(int)put.StatusCode}";
        }
        using (var get = await member.GetAsync(Url(host, $"internal/blobs/{path}?sha256={sha256}")))
        {
            if (get.StatusCode != HttpStatusCode.OK) return $"GET answered {(int)get.StatusCode}";
            if (!(await get.Content.ReadAsByteArrayAsync()).AsSpan().SequenceEqual(image)) return "GET served other bytes";
        }
        using var delete = await member.DeleteAsync(url);
        return delete.StatusCode == HttpStatusCode.NoContent ? null : $"DELETE answered {(int)delete.StatusCode}";
    }
}
