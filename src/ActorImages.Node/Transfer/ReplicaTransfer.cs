using System.Net;
using System.Net.Http.Headers;
using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using ActorImages.Storage;

namespace ActorImages.Node.Transfer;

/// <summary>
/// Moves image bytes between nodes over the replica channel (<see cref="ReplicaEndpoints"/>; HTTPS with the cluster
/// certificate on both ends, <see cref="ReplicaChannel"/>, or the HTTP port with the cluster token when remoting is
/// plain TCP): push a replica, fetch a copy, delete an aborted one. Bytes do not travel over Akka.Remote: one 64 MiB
/// copy on the remoting connection would queue every heartbeat behind it and make a healthy node look dead
/// (docs/design.md, "Moving bytes between nodes"). HTTP streams with back-pressure, from file to socket to file, never
/// holding an image in memory.
/// </summary>
public sealed class ReplicaTransfer
{
    /// <summary>Header carrying the cluster token on internal routes served on the HTTP port (no cluster certificate).</summary>
    public const string TokenHeader = "X-ActorImages-Cluster";

    /// <summary>Bytes read from the file and written to the connection at a time by a push (128 KiB).</summary>
    private const int PushChunkBytes = 128 * 1024;

    private readonly NodeSettings _settings;
    private readonly HttpClient _http;
    /// <summary>The cluster token when copies go over the HTTP port; null over the replica channel, where the cluster
    /// certificate is the credential and no token crosses the network.</summary>
    private readonly string? _token;
    /// <summary><c>https</c> or <c>http</c>, and the other nodes' port of the internal routes (the same on every node).</summary>
    private readonly (string Scheme, int Port) _endpoint;

    /// <summary>Creates the client.</summary>
    /// <param name="settings">Node settings (ports, timeouts, token).</param>
    /// <param name="tls">The cluster certificate, or none; the handler of <paramref name="http"/> must be
    /// <see cref="ReplicaChannel.ClientHandler"/> of the same.</param>
    /// <param name="http">A client from the factory; requests carry their own deadlines.</param>
    public ReplicaTransfer(NodeSettings settings, RemoteTls tls, HttpClient http)
    {
        _settings = settings;
        _token = tls.Enabled ? null : settings.AdminToken;
        _endpoint = tls.Enabled ? ("https", settings.ReplicaPort) : ("http", settings.HttpPort);
        _http = http;
        _http.Timeout = Timeout.InfiniteTimeSpan;
    }

    /// <summary>Copies the file at <paramref name="file"/> to <paramref name="host"/> under <paramref name="path"/>;
    /// returns once the target fsynced it and checked its SHA-256.</summary>
    /// <param name="host">The target node's host.</param>
    /// <param name="path">The stored relative path, the same on every replica.</param>
    /// <param name="file">The local file to send.</param>
    /// <param name="size">Its size in bytes.</param>
    /// <param name="sha256">Its lowercase hex SHA-256.</param>
    /// <param name="ct">Cancellation.</param>
    /// <exception cref="IOException">The target refused or failed, or the deadline passed.</exception>
    public async Task PushAsync(string host, string path, string file, long size, string sha256, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_settings.ReplicationDeadline(size));
        // Read on the sending thread: the temp file was just written and is in the page cache (BlobReadStream). One
        // chunk holds a camera's ~100 KB image.
        await using var stream = BlobReadStream.Open(file, FileShare.ReadWrite | FileShare.Delete);
        using var request = new HttpRequestMessage(HttpMethod.Put, Url(host, "replicas", path, sha256))
        {
            Content = new StreamContent(stream, PushChunkBytes),
        };
        request.Content.Headers.ContentLength = size;
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        try
        {
            using var response = await Send(request, deadline.Token);
            if (!response.IsSuccessStatusCode)
                throw new IOException($"{host} refused the copy: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(deadline.Token)}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new IOException($"copy to {host} took longer than {_settings.ReplicationDeadline(size).TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            throw new IOException($"copy to {host} failed: {e.Message}", e);
        }
    }

    /// <summary>Opens the copy of <paramref name="path"/> held by <paramref name="host"/>.</summary>
    /// <param name="host">A node holding the image.</param>
    /// <param name="path">The stored relative path.</param>
    /// <param name="sha256">The expected SHA-256: the holder hashes its copy while it sends it, answers 404 for a bad
    /// copy up to 1 MiB and aborts the response before its last chunk for a larger one (<see cref="LocalCopies"/>),
    /// so a bad copy reads as a body cut short (<see cref="IOException"/>), never as a complete one.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>The response body, to be disposed by the caller; null when that node has no good copy.</returns>
    public async Task<Stream?> OpenAsync(string host, string path, string sha256, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Url(host, "blobs", path, sha256));
        try
        {
            var response = await Send(request, ct, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                response.Dispose();
                return null;
            }
            return await response.Content.ReadAsStreamAsync(ct);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Asks <paramref name="host"/> whether it holds a sound copy of <paramref name="path"/>: the holder reads
    /// and hashes its copy whole (a bad one is then deleted there and restored by its scrub, as after a failed read).</summary>
    /// <param name="host">A node the catalog lists as a holder.</param>
    /// <param name="path">The stored relative path.</param>
    /// <param name="size">The catalog's size in bytes, for the deadline.</param>
    /// <param name="sha256">The catalog's SHA-256.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>True only when the holder answered that its copy is sound within the deadline of a copy of that size
    /// (<c>replication-timeout</c> and <c>replication-min-throughput</c>); false for no copy, a bad one, an error or no
    /// answer.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    public async Task<bool> ConfirmAsync(string host, string path, long size, string sha256, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, Url(host, "blobs", path, sha256));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_settings.ReplicationDeadline(size));
        try
        {
            using var response = await Send(request, timeout.Token);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>Removes an aborted copy (best effort: an upload failed after this replica was written).</summary>
    /// <param name="host">The node holding the copy.</param>
    /// <param name="path">The stored relative path.</param>
    /// <param name="sha256">Only a copy with this SHA-256 is removed.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>A task that completes when the node answered.</returns>
    public async Task DeleteAsync(string host, string path, string sha256, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, Url(host, "replicas", path, sha256));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_settings.ReplicationTimeout);
        using var _ = await Send(request, timeout.Token);
    }

    private Task<HttpResponseMessage> Send(HttpRequestMessage request, CancellationToken ct,
        HttpCompletionOption option = HttpCompletionOption.ResponseContentRead)
    {
        if (_token is not null) request.Headers.TryAddWithoutValidation(TokenHeader, _token);
        return _http.SendAsync(request, option, ct);
    }

    private Uri Url(string host, string kind, string path, string sha256) =>
        new($"{_endpoint.Scheme}://{host}:{_endpoint.Port}/internal/{kind}/{path}?sha256={sha256}");
}
