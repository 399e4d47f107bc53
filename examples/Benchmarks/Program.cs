System.Console.WriteLine("Benchmarks: under construction.");
