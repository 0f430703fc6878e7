"""MockServer for unittest and scripts: the context manager, and a unittest case as a user writes one."""
import unittest

import requests

from mockserver import MockServer


class TouchpointSyncTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = MockServer(port=0).start()     # fixtures=... for your own data

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.server.reset()

    def test_lists_touchpoint_types(self):
        response = requests.get(f"{self.server.base_url}/touchpoints", auth=self.server.auth)
        self.assertEqual([t["type_name"] for t in response.json()], ["visited_website", "purchased_tickets"])


def test_context_manager_form():
    with MockServer() as server:
        url = server.url
        assert requests.get(f"{url}/__admin/health").json() == {"status": "ok"}
    try:
        requests.get(f"{url}/__admin/health", timeout=2)
    except requests.ConnectionError:
        pass  # stopped: the port no longer answers
    else:
        raise AssertionError("the server still answers after the with block")
