"""GET a loopback URL and print its JSON body on one line (used to read Flower's API in tests)."""
import json
import sys
import urllib.request

with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
    print(json.dumps(json.loads(response.read())), flush=True)
