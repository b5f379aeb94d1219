// Each test class runs a real cluster of node processes (and kills, partitions and restarts it); on two cores they
// run one class at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
