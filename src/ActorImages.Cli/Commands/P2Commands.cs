using System.CommandLine;
using System.Diagnostics;
using ActorImages.Protocols;

namespace ActorImages.Cli.Commands;

/// <summary>
/// The P2 commands (docs/protocols.md, P2) over one WebSocket connection each: <c>upload</c>, <c>list</c>,
/// <c>download</c> and <c>view</c>. Each authenticates first as <c>--user</c> (default <c>$USER</c>).
/// </summary>
internal static class P2Commands
{
    private sealed record P2Options(Option<int> Port, Option<string> User)
    {
        public static P2Options Add(Command command)
        {
            var options = new P2Options(Common.Port("--p2-port", 8765, "P2 WebSocket"),
                new Option<string>("--user") { HelpName = "NAME", Description = "Name to AUTH as, shown as uploader (default: $USER)." });
            command.Add(options.Port);
            command.Add(options.User);
            return options;
        }

        public Task<P2Client> ConnectAsync(ParseResult parsed, Context context)
        {
            string user = parsed.GetValue(User) ?? Environment.GetEnvironmentVariable("USER") ?? Environment.UserName;
            return P2Client.ConnectAsync(context.At(parsed.GetValue(Port)), string.IsNullOrWhiteSpace(user) ? "anon" : user,
                context.Timeout, context.Cancel);
        }
    }

    /// <summary>The four P2 commands.</summary>
    public static IEnumerable<Command> Create(Common common) => [Upload(common), List(common), Download(common), View(common)];

    private static Command Upload(Common common)
    {
        var paths = new Argument<string[]>("FILE") { Arity = ArgumentArity.OneOrMore, Description = "Files (or folders of images) to upload." };
        var command = new Command("upload", "P2: upload files to the node's WebSocket repository under their own names (folders: their images).") { paths };
        var p2 = P2Options.Add(command);
        command.SetAction(async (parsed, cancel) =>
        {
            var context = common.ContextOf(parsed, cancel);
            var output = context.Output;
            var files = ImageFiles.Collect(parsed.GetValue(paths)!, filesMustBeImages: false);
            if (files.Count == 0) throw CliFailure.LocalFile("no images in: " + string.Join(' ', parsed.GetValue(paths)!));
            int refused = 0;
            long bytes = 0;
            await using (var client = await p2.ConnectAsync(parsed, context))
            using (var overFiles = Progress.Files(output, "upload", files.Count))
            {
                foreach (string file in files)
                {
                    long size = ImageFiles.Size(file);
                    try
                    {
                        using var overBytes = files.Count == 1 ? Progress.Bytes(output, "upload", size) : Progress.None;
                        output.Out.WriteLine(await client.UploadAsync(file, Path.GetFileName(file), overBytes.To));
                        bytes += size;
                    }
                    catch (CliFailure e) when (e.ExitCode == Exit.NodeError)
                    {
                        // A refused file is reported and the others still go.
                        output.Err.WriteLine("actorimages: " + e.Message);
                        refused++;
                    }
                    overFiles.Step();
                }
            }
            if (files.Count > 1)
            {
                output.Out.WriteLine($"uploaded {files.Count - refused} of {Output.Count(files.Count, "file")} ({Output.Megabytes(bytes)})");
            }
            return refused == 0 ? Exit.Ok : Exit.NodeError;
        });
        return command;
    }

    private static Command List(Common common)
    {
        var json = Common.Json("Print a JSON array of {filename, uploader}.");
        var command = new Command("list", "P2: list the files of the WebSocket repository (filename, uploader), in upload order.") { json };
        var p2 = P2Options.Add(command);
        command.SetAction(async (parsed, cancel) =>
        {
            var context = common.ContextOf(parsed, cancel);
            IReadOnlyList<P2ListedFile> files;
            await using (var client = await p2.ConnectAsync(parsed, context))
            {
                files = await client.ListAsync();
            }
            if (parsed.GetValue(json))
            {
                context.Output.PrintJson(files);
                return Exit.Ok;
            }
            var table = new Table("FILENAME", "UPLOADER");
            foreach (var file in files) table.Add(file.Filename, file.Uploader);
            table.Print(context.Output.Out);
            return Exit.Ok;
        });
        return command;
    }

    private static Command Download(Common common)
    {
        var name = new Argument<string>("NAME") { Description = "The file name, as `list` shows it." };
        var folder = new Option<string>("--output", "-o") { HelpName = "DIR", Description = "Folder to save into.", DefaultValueFactory = _ => "." };
        var force = new Option<bool>("--force") { Description = "Replace a file of the same name in DIR." };
        var command = new Command("download", "P2: download a file of the WebSocket repository by name (the oldest one of that name); any size.") { name, folder, force };
        var p2 = P2Options.Add(command);
        command.SetAction(async (parsed, cancel) =>
        {
            var context = common.ContextOf(parsed, cancel);
            string wanted = parsed.GetValue(name)!, into = parsed.GetValue(folder)!;
            bool replace = parsed.GetValue(force);
            Destination.CheckFree(into, wanted, replace);
            await using var client = await p2.ConnectAsync(parsed, context);
            string saved = await ReceiveAsync(client, context.Output, view: false, wanted, Destination.In(into, replace));
            context.Output.Out.WriteLine($"saved {saved} ({ImageFiles.Size(saved)} bytes)");
            return Exit.Ok;
        });
        return command;
    }

    private static Command View(Common common)
    {
        var name = new Argument<string>("NAME") { Description = "The file name, as `list` shows it." };
        var noOpen = new Option<bool>("--no-open") { Description = "Only save it and print the path." };
        var command = new Command("view", "P2: fetch a file by name into a new temp folder and open it with xdg-open (prints the path).") { name, noOpen };
        var p2 = P2Options.Add(command);
        command.SetAction(async (parsed, cancel) =>
        {
            var context = common.ContextOf(parsed, cancel);
            string saved;
            await using (var client = await p2.ConnectAsync(parsed, context))
            {
                string folder = Directory.CreateTempSubdirectory("actorimages-view-").FullName;
                try
                {
                    saved = await ReceiveAsync(client, context.Output, view: true, parsed.GetValue(name)!, Destination.In(folder, false));
                }
                catch
                {
                    Directory.Delete(folder); // empty: the received bytes were never committed
                    throw;
                }
            }
            context.Output.Out.WriteLine("saved " + saved);
            if (!parsed.GetValue(noOpen)) Open(saved, context.Output);
            return Exit.Ok;
        });
        return command;
    }

    /// <summary>DOWNLOAD or VIEW into <paramref name="destination"/> (disposed on return); where the file was saved.</summary>
    private static async Task<string> ReceiveAsync(P2Client client, Output output, bool view, string name, Destination destination)
    {
        var bar = Progress.None;
        try
        {
            using (destination)
            {
                var (filename, _) = await client.FetchAsync(view, name, destination.Stream,
                    size => bar = Progress.Bytes(output, view ? "view" : "download", size), received => bar.To(received));
                return destination.Commit(filename);
            }
        }
        finally
        {
            bar.Dispose();
        }
    }

    private static void Open(string file, Output output)
    {
        string? viewer = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "xdg-open")).FirstOrDefault(File.Exists);
        if (viewer is null) return;
        try
        {
            using var process = Process.Start(new ProcessStartInfo(viewer, [file])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            output.Detail("opened with " + viewer);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            output.Err.WriteLine($"actorimages: cannot run {viewer} ({e.Message}); the file is at {file}");
        }
    }
}
