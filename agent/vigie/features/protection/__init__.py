"""Protection checks (issue 20): disk encryption, antivirus, firewall, end-of-life system."""
