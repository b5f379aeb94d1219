namespace ActorImages.Bench;

/// <summary>
/// The load generator's clients, one thread each, blocking in their socket calls as the legacy clients do (blocking
/// Python sockets). A client waiting for a reply then costs no CPU: on the thread pool, with asynchronous sockets,
/// idle workers spin before they park, and while the nodes were slow to answer (a P3 write, a P1 commit) the
/// generator took up to a core of the two that the nodes under test share with it; and a reply wakes its own client,
/// with no hand-over from the socket engine to a worker. The references are measured with the same clients
/// (docs/benchmarks.md, "2026-12-05: the load generator's clients block").
/// </summary>
internal static class ClientThreads
{
    /// <summary>Runs <paramref name="client"/>(0 … clients − 1), each on a thread of its own, and returns their results
    /// in client order once every one has returned.</summary>
    /// <typeparam name="T">What a client returns.</typeparam>
    /// <param name="clients">How many threads.</param>
    /// <param name="name">The threads' name prefix.</param>
    /// <param name="client">One client's whole run; it must return by itself (a deadline, socket timeouts).</param>
    /// <returns>The results; an exception of a client is rethrown here.</returns>
    public static Task<T[]> RunAsync<T>(int clients, string name, Func<int, T> client)
    {
        var results = new Task<T>[clients];
        for (int c = 0; c < clients; c++)
        {
            var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            int index = c;
            new Thread(() =>
            {
                try
                {
                    done.SetResult(client(index));
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            }) { IsBackground = true, Name = $"{name}-{c}" }.Start();
            results[c] = done.Task;
        }
        return Task.WhenAll(results);
    }
}
