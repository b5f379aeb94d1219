using System.CommandLine;
using System.Net;
using System.Security.Cryptography;
using ActorImages.Protocols;

namespace ActorImages.Cli.Commands;

/// <summary>
/// The peer-to-peer commands (docs/protocols.md, P3 and P4): <c>peers</c> lists the tracker, <c>get</c> fetches
/// an image from a holder, <c>register</c> joins the network as a legacy peer until Ctrl-C.
/// </summary>
internal static class PeerCommands
{
    /// <summary>The three peer commands.</summary>
    public static IEnumerable<Command> Create(Common common) => [Register(common), Peers(common), Get(common)];

    private static Option<int> TrackerPort() => Common.Port("--p3-port", 13377, "P3 tracker UDP");

    private static Command Peers(Common common)
    {
        var port = TrackerPort();
        var all = new Option<bool>("--all") { Description = "Every page (LST <offset>), not only the first 4,096-byte reply." };
        var json = Common.Json("Print a JSON array of {md5, name, holders}.");
        var command = new Command("peers", "P3: list the images the tracker knows (md5, name, holders): peers' registrations first, then the cluster's newest.")
        {
            port, all, json,
        };
        command.SetAction(async (parsed, cancel) =>
        {
            var context = common.ContextOf(parsed, cancel);
            var tracker = new P3Client(context.At(parsed.GetValue(port)));
            var images = parsed.GetValue(all) ? await tracker.ListAllAsync(cancel) : await tracker.ListAsync(0, cancel);
            if (parsed.GetValue(json))
            {
                context.Output.PrintJson(images);
                return Exit.Ok;
            }
            var table = new Table("MD5", "NAME", "HOLDERS");
            foreach (var image in images) table.Add(image.Md5, image.Name, string.Join(' ', image.Holders));
            table.Print(context.Output.Out);
            if (images.Count == 0) context.Output.Err.WriteLine("no images");
            return Exit.Ok;
        });
        return command;
    }

    private static Command Get(Common common)
    {
        var md5 = new Argument<string>("MD5") { Description = "The image's md5, as `peers` shows it." };
        var port = TrackerPort();
        var folder = new Option<string>("--output", "-o") { HelpName = "DIR", Description = "Folder to save into.", DefaultValueFactory = _ => "." };
        var force = new Option<bool>("--force") { Description = "Replace a file of the same name in DIR." };
        var from = new Option<string>("--from") { HelpName = "HOST:PORT", Description = "Ask this P4 endpoint instead of the tracker's first holder." };
        var command = new Command("get", "P4: download an image by md5 from the first holder the tracker lists (or --from). "
            + "Only bytes whose MD5 is the one asked for are kept.")
        {
            md5, port, folder, force, from,
        };
        command.SetAction(async (parsed, cancel) =>
        {
            var context = common.ContextOf(parsed, cancel);
            string wanted = Context.Md5(parsed.GetValue(md5)!), into = parsed.GetValue(folder)!;
            bool replace = parsed.GetValue(force);
            Endpoint holder;
            string? name = null;
            if (parsed.GetValue(from) is { } endpoint)
            {
                try
                {
                    holder = Endpoint.Parse(endpoint);
                }
                catch (FormatException e)
                {
                    throw CliFailure.Usage("--from: " + e.Message);
                }
            }
            else
            {
                var trackerAt = context.At(parsed.GetValue(port));
                LstItem? listed = null;
                await foreach (var page in new P3Client(trackerAt).PagesAsync(cancel))
                {
                    if ((listed = page.FirstOrDefault(i => i.Md5 == wanted)) is not null) break;
                }
                if (listed is null) throw CliFailure.Node($"{trackerAt} LST: no holder of {wanted}");
                try
                {
                    holder = Endpoint.Parse(listed.Holders[0]); // the seed-002 client, too, asks the first only
                }
                catch (FormatException e)
                {
                    throw CliFailure.Node($"{trackerAt} LST: malformed holder of {wanted}: {e.Message}");
                }
                name = listed.Name;
                Destination.CheckFree(into, name, replace);
            }
            using var destination = Destination.In(into, replace);
            P4Client.Received received;
            using (var bar = Progress.Bytes(context.Output, "get", -1))
            {
                received = await new P4Client(context.Timeout).GetAsync(holder, wanted, destination.Stream, bar.To, cancel);
            }
            Check(received, holder, wanted);
            string saved = destination.Commit(name ?? $"{wanted}.{ImageFiles.Extension(received.Head) ?? "bin"}");
            context.Output.Out.WriteLine($"saved {saved} ({received.Size} bytes, md5 ok) from {holder}");
            return Exit.Ok;
        });
        return command;
    }

    /// <summary>Only bytes whose MD5 is the one asked for are a hit (docs/protocols.md, P4).</summary>
    private static void Check(P4Client.Received received, Endpoint holder, string wanted)
    {
        if (received.Size == 0) throw CliFailure.Node($"{holder} GET {wanted}: closed without data (the holder does not have it)");
        if (received.Md5 == wanted) return;
        if (received.ErrorText() is { } error) throw CliFailure.Node($"{holder} GET {wanted}: {error}");
        throw CliFailure.Integrity($"md5 mismatch: {holder} sent {received.Size} bytes with md5 {received.Md5}, expected {wanted} (nothing saved)");
    }

    private static Command Register(Common common)
    {
        var folder = new Argument<string>("DIR") { Description = "Folder whose images (recursively) to share." };
        var trackerPort = TrackerPort();
        var port = new Option<int>("--port") { HelpName = "P", Description = "Peer port to serve GET <md5> on (0: a free port).", DefaultValueFactory = _ => 0 };
        var password = new Option<string>("--password") { HelpName = "PW", Description = "Password of the registration, needed for END (default: a random one). No spaces." };
        var bind = new Option<string>("--bind") { HelpName = "ADDR", Description = "Local address to serve on and to send from (default: all; the OS picks the source)." };
        var command = new Command("register", "P3/P4: share a folder's images with the tracker's peers until Ctrl-C: REG md5,name;..., "
            + "serve them with GET <md5> on the peer port as a legacy peer does, and END on Ctrl-C or SIGTERM.")
        {
            folder, trackerPort, port, password, bind,
        };
        command.SetAction(async (parsed, cancel) =>
        {
            var context = common.ContextOf(parsed, cancel);
            string dir = parsed.GetValue(folder)!;
            if (!Directory.Exists(dir)) throw CliFailure.LocalFile("no such folder: " + dir);
            string? given = parsed.GetValue(password);
            if (given is not null && (given.Length == 0 || given.Contains(' '))) throw CliFailure.Usage("--password must be non-empty and without spaces");
            string secret = given ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            IPAddress? local = null;
            if (parsed.GetValue(bind) is { } address && !IPAddress.TryParse(address, out local)) throw CliFailure.Usage("--bind: not an IP address: " + address);
            int peerPort = parsed.GetValue(port);
            if (peerPort is < 0 or > 65535) throw CliFailure.Usage("--port must be 0-65535");

            var byMd5 = new Dictionary<string, string>();
            var holdings = new List<P3Image>();
            foreach (string image in ImageFiles.ImagesIn(dir))
            {
                string md5 = ImageFiles.Md5(image);
                if (byMd5.TryAdd(md5, image)) holdings.Add(new P3Image(md5, ListableName(Path.GetFileName(image))));
            }
            var trackerAt = context.At(parsed.GetValue(trackerPort));
            var tracker = new P3Client(trackerAt, local);
            var output = context.Output;
            await using var server = PeerServer.Start(new IPEndPoint(local ?? IPAddress.Any, peerPort), byMd5, line => output.Out.WriteLine(line));
            string reply = await tracker.RegisterAsync(secret, server.Port, holdings, cancel);
            output.Out.WriteLine($"{reply}: {Output.Count(holdings.Count, "image")} of {dir} registered with {trackerAt}; "
                + $"serving on {local?.ToString() ?? "*"}:{server.Port} until Ctrl-C");
            try
            {
                await Task.Delay(Timeout.Infinite, cancel);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C or SIGTERM: unregister before exiting, without the cancelled token.
            }
            output.Out.WriteLine(await tracker.EndAsync(secret, server.Port, CancellationToken.None));
            return Exit.Ok;
        });
        return command;
    }

    /// <summary>
    /// A file name as the tracker accepts it in REG (docs/protocols.md, P3): <c>;</c> separates items and control
    /// characters are refused, so both become <c>_</c>.
    /// </summary>
    internal static string ListableName(string name) =>
        string.Concat(name.Select(c => c == ';' || char.IsControl(c) ? '_' : c));
}
