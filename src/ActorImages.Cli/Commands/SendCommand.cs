using System.CommandLine;

namespace ActorImages.Cli.Commands;

/// <summary>
/// <c>send FILE|DIR...</c>: P1 ingest (docs/protocols.md, P1) of image files, folders recursively, one connection
/// per file as the camera client does; each file counts as sent once the node closed its connection. Prints
/// <c>sent N images (X MB) to host:port</c>. P1 has no reply, so with <c>--verify</c> it then asks the HTTP API
/// whether each image is in the catalog (<see cref="Exit.NodeError"/> naming those that are not).
/// </summary>
internal static class SendCommand
{
    /// <summary>The <c>send</c> command.</summary>
    public static Command Create(Common common)
    {
        var paths = new Argument<string[]>("FILE|DIR") { Arity = ArgumentArity.OneOrMore, Description = "Image files or folders." };
        var port = Common.Port("--p1-port", 5001, "P1 ingest");
        var verify = new Option<bool>("--verify")
        {
            Description = "Afterwards, ask the HTTP API whether the node stored each image (P1 has no reply: a node "
                + "closes after storing an image and after discarding a damaged one alike).",
        };
        var httpPort = Common.Port("--http-port", 8080, "HTTP API (for --verify)");
        var command = new Command("send", "P1: send images over TCP, one connection per file, as a camera client does. "
            + "Folders are searched recursively for JPEG, PNG, GIF, BMP, WebP and TIFF files; a file named directly must "
            + "be one of them, since a node drops anything else without a word.")
        {
            paths, port, verify, httpPort,
        };
        command.SetAction((parsed, cancel) => RunAsync(common.ContextOf(parsed, cancel), parsed.GetValue(paths)!,
            parsed.GetValue(port), parsed.GetValue(verify) ? parsed.GetValue(httpPort) : null));
        return command;
    }

    private static async Task<int> RunAsync(Context context, string[] paths, int port, int? verifyPort)
    {
        var output = context.Output;
        var files = ImageFiles.Collect(paths, filesMustBeImages: true);
        if (files.Count == 0) throw CliFailure.LocalFile("no images in: " + string.Join(' ', paths));
        var endpoint = context.At(port);
        var client = new P1Client(endpoint, context.Timeout);
        int sent = 0;
        long bytes = 0;
        try
        {
            using var overFiles = Progress.Files(output, "send", files.Count);
            foreach (string file in files)
            {
                long size = ImageFiles.Size(file);
                using (var overBytes = files.Count == 1 ? Progress.Bytes(output, "send", size) : Progress.None)
                {
                    await client.SendAsync(file, overBytes.To, context.Cancel);
                }
                overFiles.Step();
                output.Detail($"sent {file} ({size} bytes)");
                sent++;
                bytes += size;
            }
        }
        catch (CliFailure) when (sent > 0)
        {
            output.Err.WriteLine($"sent {sent} of {files.Count} images before the failure");
            throw;
        }
        output.Out.WriteLine($"sent {Output.Count(sent, "image")} ({Output.Megabytes(bytes)}) to {endpoint}");
        return verifyPort is { } http ? await VerifyAsync(context, files, context.At(http)) : Exit.Ok;
    }

    /// <summary>Asks <c>GET /api/images/{md5}</c> for each file; names those the node does not list.</summary>
    private static async Task<int> VerifyAsync(Context context, List<string> files, Endpoint httpEndpoint)
    {
        var http = new HttpQuery(httpEndpoint, context.Timeout);
        int missing = 0;
        foreach (string file in files)
        {
            string md5 = ImageFiles.Md5(file);
            try
            {
                await http.GetAsync("/api/images/" + md5, context.Cancel);
            }
            catch (CliFailure e) when (e.ExitCode == Exit.NodeError)
            {
                context.Output.Err.WriteLine($"actorimages: not stored by the node: {file} (md5 {md5}; its log says why)");
                missing++;
            }
        }
        if (missing == 0) context.Output.Out.WriteLine($"verified: the node lists all {Output.Count(files.Count, "image")}");
        return missing == 0 ? Exit.Ok : Exit.NodeError;
    }
}
