namespace LossDsl.Benchmarks;

// The structure loss at several pooling windows, for the kernel-size sweep (time per pixel should stay flat).

[Loss, BoundaryWeight(Kernel = 3, Gain = 5), WeightedBce, WeightedIoU(Smooth = 1)]
public static partial class StructureK3;

[Loss, BoundaryWeight(Kernel = 7, Gain = 5), WeightedBce, WeightedIoU(Smooth = 1)]
public static partial class StructureK7;

[Loss, BoundaryWeight(Kernel = 15, Gain = 5), WeightedBce, WeightedIoU(Smooth = 1)]
public static partial class StructureK15;

[Loss, BoundaryWeight(Kernel = 31, Gain = 5), WeightedBce, WeightedIoU(Smooth = 1)]
public static partial class StructureK31;

[Loss, BoundaryWeight(Kernel = 63, Gain = 5), WeightedBce, WeightedIoU(Smooth = 1)]
public static partial class StructureK63;

[Loss, BoundaryWeight(Kernel = 127, Gain = 5), WeightedBce, WeightedIoU(Smooth = 1)]
public static partial class StructureK127;
