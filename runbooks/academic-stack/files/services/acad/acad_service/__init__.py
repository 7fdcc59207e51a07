"""acad-service: academic data and semester GPA (IPS) over the academic PostgreSQL database."""
