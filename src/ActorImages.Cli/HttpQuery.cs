using System.Net;
using System.Text.Json;

namespace ActorImages.Cli;

/// <summary>
/// The node's HTTP API: <c>GET</c> a path and return the JSON body. A non-200 answer is the node's error,
/// <c>{"status":…,"error":"…"}</c>, reported with its text.
/// </summary>
/// <param name="node">The node's HTTP endpoint.</param>
/// <param name="timeout">Longest wait for the whole answer.</param>
internal sealed class HttpQuery(Endpoint node, TimeSpan timeout)
{
    /// <summary><c>GET path</c> (query string already encoded).</summary>
    /// <returns>The body of a 200 answer, as sent.</returns>
    /// <exception cref="CliFailure"><see cref="Exit.NodeError"/> for any other status, naming it and the node's
    /// error text; <see cref="Exit.Connection"/> if the node cannot be reached in time.</exception>
    public async Task<string> GetAsync(string path, CancellationToken cancel)
    {
        using var client = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{node}{path}");
        request.Headers.Accept.ParseAdd("application/json");
        HttpStatusCode status;
        string body;
        try
        {
            (status, body) = await Net.WithTimeout(timeout, cancel, async t =>
            {
                using var response = await client.SendAsync(request, t);
                return (response.StatusCode, await response.Content.ReadAsStringAsync(t));
            });
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException or IOException && !cancel.IsCancellationRequested)
        {
            throw node.Failure(e);
        }
        if (status == HttpStatusCode.OK) return body;
        string error = body;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var text)
                && text.ValueKind == JsonValueKind.String)
            {
                error = text.GetString()!;
            }
        }
        catch (JsonException)
        {
            // keep the body as it is
        }
        throw CliFailure.Node($"{node} GET {path}: {(int)status} {error}".TrimEnd());
    }

    /// <summary><see cref="GetAsync"/> parsed as JSON.</summary>
    public async Task<JsonElement> JsonAsync(string path, CancellationToken cancel)
    {
        string body = await GetAsync(path, cancel);
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw CliFailure.Node($"{node} GET {path}: the answer is not JSON");
        }
    }
}
