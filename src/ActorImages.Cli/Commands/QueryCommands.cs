using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace ActorImages.Cli.Commands;

/// <summary><c>query images|image|cluster</c>: the node's HTTP API (<c>/api/images</c>, <c>/api/cluster</c>).</summary>
internal static class QueryCommands
{
    /// <summary>The <c>query</c> command and its three subcommands.</summary>
    public static Command Create(Common common)
    {
        var query = new Command("query", "HTTP API: the catalog, one image, or the cluster's members.") { Images(common), Image(common), Cluster(common) };
        query.SetAction((Func<ParseResult, int>)(_ => throw CliFailure.Usage("missing subcommand: images, image or cluster")));
        return query;
    }

    private static (Option<int> Port, Option<bool> Json) HttpOptions(Command command)
    {
        var port = Common.Port("--http-port", 8080, "HTTP API");
        var json = Common.Json("Print the node's JSON answer as it came.");
        command.Add(port);
        command.Add(json);
        return (port, json);
    }

    private static Command Images(Common common)
    {
        var limit = new Option<int?>("--limit") { HelpName = "N", Description = "Page size (node default 50, at most 500)." };
        var after = new Option<string>("--after") { HelpName = "ID", Description = "The cursor of the previous page (its `next`)." };
        var command = new Command("images", "The catalog, newest first, one page at a time (GET /api/images).") { limit, after };
        var (port, json) = HttpOptions(command);
        command.SetAction(async (parsed, cancel) =>
        {
            var context = common.ContextOf(parsed, cancel);
            var query = new List<string>();
            if (parsed.GetValue(limit) is { } n)
            {
                if (n < 1) throw CliFailure.Usage("--limit must be at least 1");
                query.Add("limit=" + n.ToString(CultureInfo.InvariantCulture));
            }
            if (parsed.GetValue(after) is { } cursor) query.Add("after=" + Uri.EscapeDataString(cursor));
            string path = "/api/images" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
            var http = new HttpQuery(context.At(parsed.GetValue(port)), context.Timeout);
            if (parsed.GetValue(json))
            {
                context.Output.Out.WriteLine(await http.GetAsync(path, cancel));
                return Exit.Ok;
            }
            var page = await http.JsonAsync(path, cancel);
            var table = new Table("RECEIVED", "MD5", "SIZE", "FILENAME", "UPLOADER", "PROTOCOL", "NODES");
            foreach (var image in Array(page, "images"))
            {
                table.Add(Text(image, "receivedAt"), Text(image, "md5"), Text(image, "size"), Text(image, "filename"),
                    Text(image, "uploader"), Text(image, "protocol"), Joined(image, "nodes"));
            }
            table.Print(context.Output.Out);
            if (Text(page, "next") is { } next) context.Output.Err.WriteLine("next page: --after " + next);
            return Exit.Ok;
        });
        return command;
    }

    private static Command Image(Common common)
    {
        var md5 = new Argument<string>("MD5") { Description = "The image's md5." };
        var command = new Command("image", "One image's catalog entry and the nodes holding it (GET /api/images/{md5}).") { md5 };
        var (port, json) = HttpOptions(command);
        command.SetAction(async (parsed, cancel) =>
        {
            var context = common.ContextOf(parsed, cancel);
            string path = "/api/images/" + Context.Md5(parsed.GetValue(md5)!);
            var http = new HttpQuery(context.At(parsed.GetValue(port)), context.Timeout);
            if (parsed.GetValue(json))
            {
                context.Output.Out.WriteLine(await http.GetAsync(path, cancel));
                return Exit.Ok;
            }
            var entry = await http.JsonAsync(path, cancel);
            var table = new Table("FIELD", "VALUE");
            if (entry.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in entry.EnumerateObject())
                {
                    table.Add(field.Name, field.Value.ValueKind == JsonValueKind.Array ? Joined(entry, field.Name) : Text(entry, field.Name));
                }
            }
            table.Print(context.Output.Out);
            return Exit.Ok;
        });
        return command;
    }

    private static Command Cluster(Common common)
    {
        var command = new Command("cluster", "Members and their state, the leader and the tracker singleton's host (GET /api/cluster).");
        var (port, json) = HttpOptions(command);
        command.SetAction(async (parsed, cancel) =>
        {
            var context = common.ContextOf(parsed, cancel);
            var http = new HttpQuery(context.At(parsed.GetValue(port)), context.Timeout);
            if (parsed.GetValue(json))
            {
                context.Output.Out.WriteLine(await http.GetAsync("/api/cluster", cancel));
                return Exit.Ok;
            }
            var cluster = await http.JsonAsync("/api/cluster", cancel);
            var output = context.Output.Out;
            output.WriteLine("self:    " + (Text(cluster, "self") ?? "-"));
            output.WriteLine("leader:  " + (Text(cluster, "leader") ?? "-"));
            output.WriteLine("tracker: " + (Text(cluster, "trackerHost") ?? "-"));
            output.WriteLine();
            var table = new Table("HOST", "STATUS", "REACHABLE", "ROLES", "ADDRESS");
            foreach (var member in Array(cluster, "members"))
            {
                bool reachable = member.TryGetProperty("reachable", out var r) && r.ValueKind == JsonValueKind.True;
                table.Add(Text(member, "host"), Text(member, "status"), reachable ? "yes" : "no", Joined(member, "roles"), Text(member, "address"));
            }
            table.Print(output);
            return Exit.Ok;
        });
        return command;
    }

    private static IEnumerable<JsonElement> Array(JsonElement parent, string key) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(key, out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray() : [];

    /// <summary>A field as text (a string as is, a number or bool as written); null if missing or null.</summary>
    private static string? Text(JsonElement parent, string key) =>
        parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(key, out var value) ? null : value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => value.GetRawText(),
        };

    /// <summary>The elements of an array field, joined with a space.</summary>
    private static string Joined(JsonElement parent, string key) =>
        string.Join(' ', Array(parent, key).Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText()));
}
