using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using ActorImages.Node.Gateways;
using Prometheus;

namespace ActorImages.Node.Http;

/// <summary>
/// The node's HTTP routes on <c>actorimages.http.port</c> (README "HTTP API"): health (<c>/alive</c>, <c>/ready</c>),
/// Prometheus <c>/metrics</c>, the cluster view, and the catalog API (<see cref="CatalogApi"/>).
/// </summary>
public static class NodeApi
{
    /// <summary>Maps every HTTP route of the node.</summary>
    /// <param name="app">The application.</param>
    /// <param name="settings">Node settings (the HTTP port the routes are bound to).</param>
    /// <returns>The same application.</returns>
    public static WebApplication MapNodeApi(this WebApplication app, NodeSettings settings)
    {
        var host = $"*:{settings.HttpPort}";
        // Runs after the static files (NodeHost maps this after them): a request on the HTTP port that no route and no
        // file answered is a JSON 404, as every API error is (README "HTTP API").
        app.Use(async (ctx, next) =>
        {
            if (ctx.GetEndpoint() is null && ctx.Connection.LocalPort == settings.HttpPort && !ctx.Response.HasStarted)
            {
                ctx.Response.StatusCode = StatusCodes.Status404NotFound;
                await ctx.Response.WriteAsJsonAsync(new { status = 404, error = "no such path: " + ctx.Request.Path });
                return;
            }
            await next(ctx);
        });
        app.MapGet("/alive", () => Results.Ok(new { alive = true })).RequireHost(host);
        app.MapGet("/ready", (Membership membership, TcpIngestGateway p1, PeerGetGateway p4, UdpTrackerGateway p3) =>
        {
            var ready = membership.Current.SelfUp && p1.Bound.IsCompletedSuccessfully
                && p4.Bound.IsCompletedSuccessfully && p3.Bound.IsCompletedSuccessfully;
            return ready ? Results.Ok(new { ready = true })
                : Results.Json(new { ready = false }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }).RequireHost(host);
        app.MapMetrics("/metrics").RequireHost(host);
        app.MapGet("/api/cluster", (Membership membership) => ClusterJson(membership.Current)).RequireHost(host);
        return app;
    }

    /// <summary>The body of <c>GET /api/cluster</c>: this node's view of the membership and where the tracker runs.
    /// A member that has left (Removed) is no longer a member and is not listed; the web viewer shows it as Left.</summary>
    /// <param name="view">The membership view.</param>
    /// <returns><c>{"self","members":[{"host","address","status","reachable","roles"}],"leader","trackerHost"}</c>.</returns>
    public static object ClusterJson(MembershipSnapshot view) => new
    {
        self = view.Members.FirstOrDefault(m => m.Address == view.Self)?.Host ?? view.Self,
        members = view.Members.Where(m => m.Status != "Removed")
            .Select(m => new { host = m.Host, address = m.Address, status = m.Status, reachable = m.Reachable, roles = m.Roles }),
        leader = view.Leader,
        trackerHost = view.OldestHost,
    };
}
