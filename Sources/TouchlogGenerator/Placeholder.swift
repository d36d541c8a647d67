// TouchlogGenerator
