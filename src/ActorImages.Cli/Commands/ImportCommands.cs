using System.CommandLine;

namespace ActorImages.Cli.Commands;

/// <summary>
/// <c>import seed000 DIR</c>, <c>import seed001 DIR</c>, <c>import cluster URL</c>: what users of the old systems have,
/// into the node of <c>--node</c> through its HTTP API with the admin token (<see cref="Importer"/>). Each item keeps
/// its source's name, uploader, protocol and time, and carries a key stable per source item, so running an import
/// again stores nothing twice. Prints <c>imported N, already there M, failed K</c>; the exit code is that of the
/// first failed item (0 when none failed).
/// </summary>
internal static class ImportCommands
{
    /// <summary>The <c>import</c> command and its three subcommands.</summary>
    public static Command Create(Common common)
    {
        var import = new Command("import", "Import the images of a seed-000 data/ folder, a seed-001 repository or another "
            + "ActorImages cluster (C# or Java) into the node, keeping names, uploaders and times; a second run imports nothing twice.")
        {
            Seed000(common), Seed001(common), Cluster(common),
        };
        import.SetAction((Func<ParseResult, int>)(_ => throw CliFailure.Usage("missing subcommand: seed000, seed001 or cluster")));
        return import;
    }

    private sealed record ImportOptions(Option<int> Port, Option<string> Token, Option<int> Parallel)
    {
        public static ImportOptions Add(Command command)
        {
            var options = new ImportOptions(
                Common.Port("--http-port", 8080, "HTTP API"),
                new Option<string>("--token")
                {
                    HelpName = "TOKEN",
                    Description = "The node's admin token (default: $ACTORIMAGES_ADMIN_TOKEN, else the file run/admin-token).",
                },
                new Option<int>("--parallel")
                {
                    HelpName = "N",
                    Description = "Uploads in flight at once; items go oldest first, those of one filename in order (1: exactly the source's order).",
                    DefaultValueFactory = _ => 4,
                });
            command.Add(options.Port);
            command.Add(options.Token);
            command.Add(options.Parallel);
            return options;
        }
    }

    private static Option<string> TimeZone() => new("--time-zone")
    {
        HelpName = "ZONE",
        Description = "The old server's time zone, for its local times (IANA name such as America/Sao_Paulo; default: this machine's).",
    };

    private static Command Seed000(Common common)
    {
        var dir = new Argument<string>("DIR") { Description = "The seed-000 server's data/ folder, or the folder holding it." };
        var zone = TimeZone();
        var command = new Command("seed000", "Import data/YYYY-MM-DD/HHMMSS.jpg files of a seed-000 (camera) server: named HHMMSS.jpg, "
            + "uploader tcp:import, received at the path's date and time (the server's local time).") { dir, zone };
        var options = ImportOptions.Add(command);
        command.SetAction((parsed, cancel) => RunAsync(common, parsed, options, cancel,
            () => new Seed000Source(parsed.GetValue(dir)!, SeedClock.Of(parsed.GetValue(zone))), "seed000 " + parsed.GetValue(dir)));
        return command;
    }

    private static Command Seed001(Common common)
    {
        var dir = new Argument<string>("DIR") { Description = "The seed-001 server's folder, holding metadata.json and imagens/." };
        var zone = TimeZone();
        var command = new Command("seed001", "Import a seed-001 (WebSocket) repository: each metadata.json record with its filename, "
            + "uploader and timestamp (the server's local time unless it names a zone).") { dir, zone };
        var options = ImportOptions.Add(command);
        command.SetAction((parsed, cancel) => RunAsync(common, parsed, options, cancel,
            () => new Seed001Source(parsed.GetValue(dir)!, SeedClock.Of(parsed.GetValue(zone))), "seed001 " + parsed.GetValue(dir)));
        return command;
    }

    private static Command Cluster(Common common)
    {
        var url = new Argument<string>("URL") { Description = "The other cluster's HTTP API, e.g. http://10.0.0.5:8080 (host alone: port 8080)." };
        var command = new Command("cluster", "Import every image of another ActorImages cluster (this version or the Java one) through "
            + "its HTTP API, with its filename, uploader, protocol and receivedAt; bytes are checked against the source's md5.") { url };
        var options = ImportOptions.Add(command);
        command.SetAction((parsed, cancel) =>
        {
            var context = common.ContextOf(parsed, cancel);
            return RunAsync(common, parsed, options, cancel, () => new ClusterSource(parsed.GetValue(url)!, context.Timeout),
                "cluster " + parsed.GetValue(url));
        });
        return command;
    }

    private static async Task<int> RunAsync(Common common, ParseResult parsed, ImportOptions options, CancellationToken cancel,
        Func<IImportSource> open, string what)
    {
        var context = common.ContextOf(parsed, cancel);
        var output = context.Output;
        int parallel = parsed.GetValue(options.Parallel);
        if (parallel is < 1 or > 64) throw CliFailure.Usage("--parallel must be in 1..64");
        string token = Importer.Token(parsed.GetValue(options.Token));
        var source = open();
        try
        {
            using var importer = new Importer(context.At(parsed.GetValue(options.Port)), token, context.Timeout);
            // The node first: no point reading a large source for a node that cannot be reached.
            await importer.NewestIdAsync(cancel);
            var listing = await source.ListAsync(cancel);
            foreach (string line in listing.Skipped) output.Err.WriteLine("actorimages: " + line);
            output.Detail($"{what}: {Output.Count(listing.Count, "item")} to import into {context.At(parsed.GetValue(options.Port))}");
            ImportSummary summary;
            using (var progress = Progress.Files(output, "import", listing.Count))
            {
                summary = await importer.RunAsync(source, listing, parallel, output, progress.Step, cancel);
            }
            output.Out.WriteLine(summary);
            return summary.FirstFailure?.ExitCode ?? Exit.Ok;
        }
        finally
        {
            (source as IDisposable)?.Dispose();
        }
    }
}
