using System.Net;
using ActorImages.Bench;

// bin/bench runs `dotnet ActorImages.Bench.dll --root <repo> [options]`; the two reference servers are this same
// program started as child processes.
return args switch
{
    ["sink-p1", var host, var port, var folder] => await Serve(() => ReferenceSink.RunAsync(new IPEndPoint(IPAddress.Parse(host), int.Parse(port)), folder)),
    ["responder-p3", var host, var port] => await Serve(() => Task.Run(() => ReferenceResponder.Run(new IPEndPoint(IPAddress.Parse(host), int.Parse(port))))),
    _ => await Bench.MainAsync(args),
};

static async Task<int> Serve(Func<Task> server)
{
    await server();
    return 0;
}
