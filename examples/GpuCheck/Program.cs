System.Console.WriteLine("GPU check: under construction.");
