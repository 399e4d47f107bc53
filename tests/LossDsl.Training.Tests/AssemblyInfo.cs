using Xunit;

// Every trainer seeds libtorch's one global generator (torch.manual_seed) and then draws its initial weights from it; two
// test classes training at once would draw from each other's sequence and make the runs they compare differ. The tests in
// this project therefore run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
